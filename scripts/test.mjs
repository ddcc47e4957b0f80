// Runs every test/**/*.test.ts with node:test (TypeScript through tsx). Extra arguments filter by path substring.
// First it makes sure moto_server, cfn-lint and samtranslator can be started (scripts/tools.mjs: from the PATH, or
// installed into .venv), and puts .venv/bin first on the tests' PATH when it used that.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ensureTools, ToolsError } from './tools.mjs';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const env = { ...process.env };
try {
  const { bin } = ensureTools({ root: new URL('..', import.meta.url).pathname });
  if (bin) env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
} catch (err) {
  if (!(err instanceof ToolsError)) throw err;
  console.error(err.message);
  process.exit(1);
}
const { status } = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit', env },
);
process.exit(status ?? 1);
