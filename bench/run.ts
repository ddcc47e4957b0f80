// `npm run bench`: runs every figure against moto through the integration harness, prints a table, writes results.json.
// Options: --reps N (default 5), --only overhead,trivial,memory,dispatcher,items,child,ops-status,extension (default all).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startHarness } from '../test/integration/harness/index.js';
import type { BenchContext } from './context.js';
import { measureDispatcher } from './dispatcher.js';
import { measureItemSets } from './dispatcher-items.js';
import { measureExtension } from './extension.js';
import { floorPython } from './floor.js';
import { measureItemChild } from './items-child.js';
import { measureMemory } from './memory.js';
import { measureOpsStatus } from './ops-status.js';
import { measureOverhead } from './overhead.js';
import { ROOT, timed } from './proc.js';
import { type BenchResults, judgeAims, printReport } from './report.js';
import { measureTrivial } from './trivial.js';

const FIGURES = [
  'overhead',
  'trivial',
  'memory',
  'dispatcher',
  'items',
  'child',
  'ops-status',
  'extension',
] as const;
type Figure = (typeof FIGURES)[number];

function parseArgs(argv: string[]): { reps: number; only: Set<Figure> } {
  let reps = 5;
  let only = new Set<Figure>(FIGURES);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') reps = Number(argv[++i]);
    else if (a === '--only') only = new Set((argv[++i] ?? '').split(',') as Figure[]);
    else throw new Error(`unknown argument ${a} (use --reps N, --only ${FIGURES.join(',')})`);
  }
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps wants a positive integer');
  for (const f of only) if (!FIGURES.includes(f)) throw new Error(`unknown figure ${f}`);
  return { reps, only };
}

async function main(): Promise<void> {
  const { reps, only } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const progress = (line: string) =>
    process.stderr.write(`bench [${Math.round((performance.now() - started) / 1000)} s]: ${line}\n`);
  progress('starting moto and the harness front');
  const h = await startHarness();
  const scratch = await mkdtemp(join(tmpdir(), 'run-lambda-bench-'));
  const ctx: BenchContext = { h, scratch, reps, python: floorPython(process.env), progress };
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      python: (await timed(ctx.python, ['--version'])).stdout.trim(),
      platform: `${process.platform} ${process.arch}`,
    },
    repetitions: reps,
  };
  try {
    if (only.has('overhead')) results.overhead = await measureOverhead(ctx);
    if (only.has('trivial')) results.trivial = await measureTrivial(ctx);
    if (only.has('memory')) results.memory = await measureMemory(ctx);
    if (only.has('dispatcher')) results.dispatcher = await measureDispatcher(ctx);
    if (only.has('items')) results.items = await measureItemSets(ctx);
    if (only.has('child')) results.child = await measureItemChild(ctx);
    if (only.has('ops-status')) results.opsStatus = await measureOpsStatus(ctx);
    if (only.has('extension')) results.extension = await measureExtension(ctx);
  } finally {
    await h.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  results.aims = judgeAims(results);
  results.durationS = Math.round((performance.now() - started) / 1000);
  await writeFile(join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  printReport(results);
  progress(`done in ${results.durationS} s; wrote bench/results.json`);
}

await main();
