// The parts stand on floors (docs/architecture.md "The parts"): lib/ imports nothing above it, the runner and each
// function use lib/ and never each other, images/ and scripts/ none of them; and no product file imports, through
// any chain of imports (type-only ones included), a file that imports it back.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PRODUCT = ['lib', 'runner', 'functions', 'images', 'scripts'];
const CODE = /\.(ts|mts|mjs|js)$/;

function walk(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules') return [];
    if (statSync(join(root, rel)).isDirectory()) return walk(rel);
    return CODE.test(name) && !/\.d\.m?ts$/.test(name) ? [rel] : [];
  });
}

/** The relative imports of a source text: static, re-exports, side-effect and dynamic ones with a literal path. */
export function relativeImports(text: string): string[] {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
  return specs.filter((s) => s.startsWith('./') || s.startsWith('../'));
}

/** The file an import names: `x.js` is the TypeScript source `x.ts` where there is one. */
function resolveImport(from: string, spec: string): string {
  const target = relative(root, resolve(root, dirname(from), spec));
  const ts = target.replace(/\.js$/, '.ts');
  return ts !== target && existsSync(join(root, ts)) ? ts : target;
}

/** The part a file belongs to: lib, runner, functions/<name>, images or scripts (else undefined: test/, bench/…). */
function partOf(file: string): string | undefined {
  const [top, second] = file.split('/');
  if (top === 'functions') return `functions/${second}`;
  return PRODUCT.includes(top as string) ? top : undefined;
}

/** Whether `from` may import `to`: down to lib/, or within itself. images/ and scripts/ use neither. */
export function mayImport(from: string, to: string | undefined): boolean {
  if (to === undefined || to === from) return true;
  if (from === 'images' || from === 'scripts') return false;
  return to === 'lib' && from !== 'lib';
}

/** The groups of files that import each other in a loop (Tarjan's strongly connected components of two or more). */
export function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const files = PRODUCT.flatMap(walk);
const graph = new Map(
  files.map((f) => [f, relativeImports(readFileSync(join(root, f), 'utf8')).map((s) => resolveImport(f, s))]),
);

test('every product file imports only down its floors: lib/ nothing above it, the parts never each other', () => {
  assert.ok(files.length > 100, `${files.length} product files`);
  assert.ok([...graph.values()].flat().length > 300, 'the imports were read');
  const wrong = [...graph].flatMap(([from, targets]) =>
    targets.filter((to) => !mayImport(partOf(from)!, partOf(to))).map((to) => `${from} -> ${to}`),
  );
  assert.deepEqual(wrong, []);
});

test('no product file imports one that imports it back, by any chain', () => {
  assert.deepEqual(circles(graph), []);
});

test('the check finds a loop, a wrong floor and every form of import', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['d']],
    ['e', ['a']],
  ]);
  assert.deepEqual(circles(g), [['a', 'b', 'c'], ['d']]);
  assert.equal(mayImport('lib', 'runner'), false);
  assert.equal(mayImport('runner', 'functions/dispatcher'), false);
  assert.equal(mayImport('functions/helper', 'functions/dispatcher'), false);
  assert.equal(mayImport('scripts', 'lib'), false);
  assert.equal(mayImport('functions/post-batch', 'lib'), true);
  assert.equal(mayImport('runner', undefined), true);
  assert.deepEqual(
    relativeImports(
      [
        "import type { A } from './a.js';",
        "export { B } from '../b.js';",
        "import './c.mjs';",
        "const m = await import('./d.js');",
        "import { readFile } from 'node:fs/promises';",
        'import {',
        '  E,',
        "} from './e.js';",
      ].join('\n'),
    ),
    ['./a.js', '../b.js', './e.js', './c.mjs', './d.js'],
  );
});
