// `node --import tsx bench/cache-check.ts [files]`: what checking a cache entry against its manifest costs
// (runner/aws/cache-manifest.ts), on a tree like a large Python package: files in folders of 50, 1 KiB each.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, takeManifest } from '../runner/aws/cache-manifest.js';

const counts = process.argv[2] ? [Number(process.argv[2])] : [100, 1000, 5000, 20000];
const REPS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

for (const files of counts) {
  const root = mkdtempSync(join(tmpdir(), 'cache-check-'));
  const body = Buffer.alloc(1024, 0x61);
  for (let i = 0; i < files; i++) {
    const d = join(root, `pkg${Math.floor(i / 50)}`);
    if (i % 50 === 0) mkdirSync(d);
    writeFileSync(join(d, `m${i}.py`), body);
  }
  const take: number[] = [];
  const check: number[] = [];
  let manifest = '';
  for (let r = 0; r < REPS; r++) {
    let t = performance.now();
    manifest = takeManifest(root);
    take.push(performance.now() - t);
    t = performance.now();
    const why = checkManifest(root, manifest);
    check.push(performance.now() - t);
    if (why !== undefined) throw new Error(`an untouched tree failed its check: ${why}`);
  }
  rmSync(root, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify({ files, manifestBytes: manifest.length, takeMs: +median(take).toFixed(1), checkMs: +median(check).toFixed(1) })}\n`,
  );
}
