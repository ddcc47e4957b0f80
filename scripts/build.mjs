// Builds every artifact under dist/ (the build outputs the README lists). One module per target in scripts/build/.
import { readdir } from 'node:fs/promises';

const dir = new URL('./build/', import.meta.url);
const only = process.argv.slice(2);
const targets = (await readdir(dir)).filter((f) => f.endsWith('.mjs')).sort();
const started = Date.now();
await Promise.all(
  targets
    .filter((f) => only.length === 0 || only.includes(f.replace(/\.mjs$/, '')))
    .map(async (f) => {
      const mod = await import(new URL(f, dir));
      await mod.build();
    }),
);
if (process.env.BUILD_VERBOSE) console.error(`built ${targets.join(', ')} in ${Date.now() - started} ms`);
