// `node --import tsx bench/native-files.ts [files]`: what local mode's architecture check costs (runner/runtime/
// native-files.ts) on a tree like a large Python package: modules in folders of 50, with a shared object for this
// machine in the last folder (the walk's worst case that still runs: every level listed before it is found) and,
// beside each count, the same tree with none (the whole walk, nothing native).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostArchitecture } from '../runner/runtime/architecture.js';
import { nativeFindings } from '../runner/runtime/native-files.js';

const counts = process.argv[2] ? [Number(process.argv[2])] : [100, 1000, 5000, 20000];
const REPS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const host = hostArchitecture();

/** `files` modules of 1 KiB in folders of 50, two levels deep, and (with `native`) this Node.js as `_native.so`. */
function tree(files: number, native: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'native-files-'));
  const body = Buffer.alloc(1024, 0x61);
  let dir = root;
  for (let i = 0; i < files; i++) {
    if (i % 50 === 0) {
      dir = join(root, `pkg${Math.floor(i / 1000)}`, `sub${Math.floor(i / 50)}`);
      mkdirSync(dir, { recursive: true });
    }
    writeFileSync(join(dir, `m${i}.py`), body);
  }
  // An ELF object of this machine: the Node.js binary running this stands in for a compiled extension.
  if (native) copyFileSync(process.execPath, join(dir, '_native.so'));
  return root;
}

for (const files of counts) {
  const out: Record<string, number> = { files };
  for (const native of [true, false]) {
    const root = tree(files, native);
    const times: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const t = performance.now();
      const found = await nativeFindings([root], host);
      times.push(performance.now() - t);
      if (found.kind !== (native ? 'host' : 'none')) throw new Error(`found ${found.kind}`);
    }
    rmSync(root, { recursive: true, force: true });
    out[native ? 'withNativeMs' : 'noneMs'] = +median(times).toFixed(1);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
