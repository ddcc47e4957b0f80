// Figure 8: what one idle extension costs a run. The same local run (empty Python handler, file event and result) with
// and without one extension in its opt dir that registers for INVOKE and SHUTDOWN and does nothing but ask for its
// next event, interleaved, medians. The extension is compiled from bench/idle-extension.c with the machine's cc, as
// most layers' extensions are compiled (Go, Rust): what is measured is the runner's lifecycle, not an interpreter's
// start (a Node.js or Python extension adds its own, about `node -e 0` or `python3 -c 0`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchContext, type Comparison, compare } from './context.js';
import { ROOT, runRunner, timed } from './proc.js';
import { EMPTY_HANDLER } from './workload.js';

export interface ExtensionResult {
  /** the run with one idle extension against the same run without */
  idle: Comparison;
}

export async function measureExtension(ctx: BenchContext): Promise<ExtensionResult> {
  const { scratch, reps, progress } = ctx;
  const dir = join(scratch, 'extension');
  const task = join(dir, 'task');
  const bare = join(dir, 'opt-bare');
  const withOne = join(dir, 'opt-idle');
  await mkdir(task, { recursive: true });
  await mkdir(bare, { recursive: true });
  await mkdir(join(withOne, 'extensions'), { recursive: true });
  await writeFile(join(task, 'lambda_function.py'), EMPTY_HANDLER);
  const cc = process.env.CC ?? 'cc';
  await timed(cc, ['-O2', '-o', join(withOne, 'extensions', 'idle'), join(ROOT, 'bench/idle-extension.c')]);
  const event = join(dir, 'event.json');
  await writeFile(event, '{}');
  const args = (opt: string) => ['--no-cache', '--opt-dir', opt, task, event, join(dir, 'result.json')];

  // One of each first: the disk cache warm for both.
  await runRunner(args(bare), scratch);
  await runRunner(args(withOne), scratch);
  const runs = { idle: [] as number[], bare: [] as number[], steps: [] as Record<string, number>[] };
  for (let i = 0; i < reps; i++) {
    progress(`one idle extension: repetition ${i + 1} of ${reps}`);
    runs.bare.push((await runRunner(args(bare), scratch)).ms);
    const r = await runRunner(args(withOne), scratch);
    runs.idle.push(r.ms);
    runs.steps.push(r.steps);
  }
  return { idle: compare(runs.idle, runs.bare, { runner: runs.steps }) };
}
