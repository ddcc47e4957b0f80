// Figure 4: the runner process's own peak RSS for 1 MiB, 100 MiB, 200 MiB and 1 GiB events (local files; no S3).
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { nodeBaselineRssKb, runRunner } from './proc.js';
import { MB, median, round } from './stats.js';
import { SIZE_HANDLER } from './workload.js';

export interface MemoryPoint {
  eventBytes: number;
  /** median peak RSS of the runner process (MiB) */
  runnerPeakRssMb: number;
  runsMb: number[];
  /** median wall time of the run (ms), for context */
  ms: number;
}

export interface MemoryResult {
  /** peak RSS of `node -e 0` with the same probe (MiB): what any node process costs */
  nodeBaselineMb: number;
  points: MemoryPoint[];
  /** largest-event peak / smallest-event peak: 1.0 is perfectly flat */
  growth: number;
  /** MiB the peak gains from the 100 MiB event to the 1 GiB one (10× the event): ~0 when the event is streamed */
  gain100MiBTo1GiBMb: number;
  /** the peak on a 200 MiB event (MiB): the size the aim names */
  peakAt200MiBMb: number;
}

const SIZES = [1 * MB, 100 * MB, 200 * MB, 1024 * MB] as const;

/** Writes `{"blob": "xxx…"}` of exactly `bytes` bytes in 8 MiB chunks (never the whole event in memory). */
async function writeEvent(path: string, bytes: number): Promise<void> {
  const head = '{"blob": "';
  const tail = '"}';
  const out = createWriteStream(path);
  out.write(head);
  const chunk = Buffer.alloc(8 * MB, 'x');
  let left = bytes - head.length - tail.length;
  while (left > 0) {
    const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= piece.length;
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end(tail);
  await once(out, 'finish');
}

export async function measureMemory(ctx: BenchContext): Promise<MemoryResult> {
  const { scratch, reps, progress } = ctx;
  const dir = join(scratch, 'memory');
  const task = join(dir, 'task');
  await mkdir(task, { recursive: true });
  await writeFile(join(task, 'lambda_function.py'), SIZE_HANDLER);
  const cache = join(dir, 'cache');
  const baseline: number[] = [];
  const points: MemoryPoint[] = [];
  for (const size of SIZES) {
    const event = join(dir, `event-${size}.json`);
    progress(`memory: writing a ${round(size / MB)} MiB event`);
    await writeEvent(event, size);
    const rss: number[] = [];
    const times: number[] = [];
    // The 1 GiB event costs the Python runtime seconds per run; three runs are enough for a median there.
    const n = size >= 1024 * MB ? Math.min(reps, 3) : reps;
    for (let i = 0; i < n; i++) {
      progress(`memory: ${round(size / MB)} MiB event, run ${i + 1} of ${n}`);
      const r = await runRunner(['--cache-dir', cache, task, event, join(dir, 'result.json')], scratch);
      rss.push(r.maxRssKb / 1024);
      times.push(r.ms);
      baseline.push((await nodeBaselineRssKb(scratch)) / 1024);
    }
    await rm(event, { force: true });
    points.push({
      eventBytes: size,
      runnerPeakRssMb: round(median(rss)),
      runsMb: rss.map((x) => round(x)),
      ms: round(median(times)),
    });
  }
  const peakAt = (size: number) => points.find((p) => p.eventBytes === size)!.runnerPeakRssMb;
  const first = peakAt(1 * MB);
  const last = peakAt(1024 * MB);
  const mid = peakAt(100 * MB);
  return {
    nodeBaselineMb: round(median(baseline)),
    points,
    growth: round(last / first, 3),
    gain100MiBTo1GiBMb: round(last - mid),
    peakAt200MiBMb: peakAt(200 * MB),
  };
}
