// The Python tools npm test needs: moto_server (the AWS emulator), cfn-lint, and samtranslator (the SAM transform the
// e2e deploys through). Taken from the PATH when all are there; otherwise installed, pinned by requirements-dev.txt,
// into the project's own virtual environment .venv/ (python3 -m venv), whose bin/ then goes first on the PATH.
// CLI: `node scripts/tools.mjs [--root DIR]` prints that bin/ (or nothing) on stdout; failures are one line, exit 1.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const TOOLS = ['moto_server', 'cfn-lint'];
const STAMP = '.requirements-dev.sha256';

/** An expected failure: its message is the one line to print. */
export class ToolsError extends Error {
  name = 'ToolsError';
}

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const onPath = (name, env) =>
  (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, name)));

const firstLine = (text) =>
  (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? '';

/**
 * Makes sure the tools can be started; returns the folder to put first on the PATH (`bin`), or no `bin` when the
 * PATH already has them. Throws a ToolsError whose message is one line when they cannot be had.
 */
export function ensureTools({ root, env = process.env, log = (m) => process.stderr.write(`${m}\n`) }) {
  const requirements = join(root, 'requirements-dev.txt');
  const venv = join(root, '.venv');
  const bin = join(venv, 'bin');
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(venv, STAMP);
  const venvReady = () => [...TOOLS, 'python3'].every((t) => executable(join(bin, t)));

  if (venvReady() && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) {
    return { source: 'venv', bin };
  }
  const missing = TOOLS.filter((t) => !onPath(t, env));
  if (missing.length === 0) {
    const sam = spawnSync('python3', ['-c', 'import samtranslator'], { env, encoding: 'utf8' });
    if (sam.status === 0) return { source: 'path' };
    missing.push('samtranslator (for python3)');
  }

  log(`${missing.join(', ')} not found: installing requirements-dev.txt into .venv`);
  const version = spawnSync('python3', ['--version'], { env, encoding: 'utf8' });
  if (version.error || version.status !== 0)
    throw new ToolsError(
      'npm test needs Python 3 to install moto and cfn-lint, and there is no python3 on the PATH: install Python 3 and run it again',
    );
  if (!executable(join(bin, 'python3'))) {
    const made = spawnSync('python3', ['-m', 'venv', venv], { env, encoding: 'utf8' });
    if (made.status !== 0)
      throw new ToolsError(
        `python3 could not make the virtual environment .venv (${firstLine(made.stderr || made.stdout)}): ` +
          'install its venv module (Debian, Ubuntu: apt-get install python3-venv) and run it again',
      );
  }
  const pip = spawnSync(
    join(bin, 'python3'),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', requirements],
    { env, stdio: ['ignore', 2, 2] },
  );
  if (pip.status !== 0)
    throw new ToolsError(
      `pip could not install requirements-dev.txt into .venv (${pip.error ? pip.error.message : `exit ${pip.status ?? pip.signal}`}; its output is above)`,
    );
  if (!venvReady())
    throw new ToolsError(`.venv has no ${TOOLS.join(' or ')} after pip install -r requirements-dev.txt`);
  writeFileSync(stamp, `${wanted}\n`);
  return { source: 'venv', bin };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--root');
  const root = i === -1 ? new URL('..', import.meta.url).pathname : (process.argv[i + 1] ?? '');
  try {
    const { bin } = ensureTools({ root });
    if (bin) process.stdout.write(`${bin}\n`);
  } catch (err) {
    if (!(err instanceof ToolsError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
