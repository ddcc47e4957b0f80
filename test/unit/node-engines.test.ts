// package.json's `engines` says which Node.js the project needs, and the README repeats it. The packages the bundles
// carry (package-lock.json's production entries) must all run on the lowest release it admits: when a dependency
// moves on (the AWS SDK needs Node.js 22 for its releases after early January 2027), the lockfile update that
// brings it fails here until `engines`, the README and the Node.js of the test runs move with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../support/tools.js';

type Version = [number, number, number];

const json = (file: string) => JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8'));

/** `20`, `20.5`, `0.8.x`, `20.0.0` → [major, minor, patch] (a missing or `x` part is 0). */
function version(text: string): Version {
  const parts = text.split('.').map((p) => (p === 'x' || p === '' ? 0 : Number(p)));
  if (parts.length > 3 || parts.some((p) => !Number.isInteger(p))) throw new Error(`not a version: ${text}`);
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `v` satisfies an engines range made of `>=a.b.c`, `^a.b.c` and `*` alternatives (`||`). */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alternative) => {
    const a = alternative.trim();
    if (a === '*' || a === '') return true;
    const ge = /^>=\s*([\dx.]+)$/.exec(a);
    if (ge?.[1]) return compare(v, version(ge[1])) >= 0;
    const caret = /^\^\s*([\dx.]+)$/.exec(a);
    if (caret?.[1]) {
      const low = version(caret[1]);
      return compare(v, low) >= 0 && v[0] === low[0];
    }
    throw new Error(`cannot read the Node.js range "${range}": add its form to this test`);
  });
}

test('every production package of the lockfile runs on the lowest Node.js that package.json admits', () => {
  const admitted = /^>=\s*([\dx.]+)$/.exec(json('package.json').engines.node)?.[1];
  assert.ok(admitted, 'package.json engines.node is a ">=" range');
  const lowest = version(admitted);
  const packages = json('package-lock.json').packages as Record<
    string,
    { dev?: boolean; engines?: { node?: string } }
  >;
  const refusing = Object.entries(packages)
    .filter(([name, p]) => name !== '' && !p.dev && p.engines?.node && !satisfies(lowest, p.engines.node))
    .map(([name, p]) => `${name.replace(/^node_modules\//, '')} needs Node.js ${p.engines?.node}`);
  assert.deepEqual(refusing, [], `package.json admits Node.js ${admitted}, which these refuse`);
});

test('the range reader refuses what it cannot read, rather than pass it', () => {
  assert.equal(satisfies([20, 0, 0], '>=18.0.0'), true);
  assert.equal(satisfies([20, 0, 0], '>= 22'), false);
  assert.equal(satisfies([20, 0, 0], '^18 || >=22'), false);
  assert.equal(satisfies([20, 0, 0], '^18.17.0 || >=20.5.0'), false);
  assert.throws(() => satisfies([20, 0, 0], '20 - 22'), /cannot read/);
});
