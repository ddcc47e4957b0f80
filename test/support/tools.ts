// Finds the Python test tools (moto_server, cfn-lint, python3 with samtranslator): on the PATH, where `npm test`
// puts the project's .venv/bin first when it had to make one (scripts/tools.mjs), else in .venv/bin itself, so a
// test file run on its own (`node --import tsx --test …`) finds the same ones.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

const executable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The command to spawn for `name`: a PATH entry, else `.venv/bin/<name>`, else the bare name (spawn says ENOENT). */
export function toolPath(name: 'moto_server' | 'cfn-lint' | 'python3', env = process.env): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  const venv = join(REPO_ROOT, '.venv/bin', name);
  return executable(venv) ? venv : name;
}

/** One line for a tool that could not be started. */
export const missingTool = (name: string) =>
  `${name} is not installed: npm test installs it into .venv from requirements-dev.txt (or pip install -r requirements-dev.txt)`;
