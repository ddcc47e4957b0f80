// The bench's results.json shape and the printed report: ratios first, absolute times after, then where time goes.
import type { Comparison } from './context.js';
import type { DispatcherResult } from './dispatcher.js';
import type { ItemSetResult } from './dispatcher-items.js';
import type { ExtensionResult } from './extension.js';
import type { ItemChildResult } from './items-child.js';
import type { MemoryResult } from './memory.js';
import type { OpsStatusResult } from './ops-status.js';
import type { OverheadResult } from './overhead.js';
import { fmtMs, fmtRatio, MB, table } from './stats.js';
import type { TrivialResult } from './trivial.js';

export interface BenchResults {
  generatedAt: string;
  machine: Record<string, string | number>;
  repetitions: number;
  overhead?: OverheadResult;
  trivial?: TrivialResult;
  memory?: MemoryResult;
  dispatcher?: DispatcherResult;
  items?: ItemSetResult;
  child?: ItemChildResult;
  opsStatus?: OpsStatusResult;
  extension?: ExtensionResult;
  aims?: Record<string, { aim: string; value: number; met: boolean }>;
  durationS?: number;
}

/**
 * The aims: cold ≤ 1.0× floor, warm ≤ 1.1× (on the 5 MB event as on the 20 MB one), memory flat and ≤ 100 MiB at
 * a 200 MiB event. Flat: ten times the event (100 MiB → 1 GiB) adds at most 16 MiB to the peak; the step from 1 MiB to
 * 100 MiB is buffers V8 frees on its own schedule.
 */
export function judgeAims(r: BenchResults): BenchResults['aims'] {
  const aims: NonNullable<BenchResults['aims']> = {};
  if (r.overhead) {
    aims.coldOverhead = {
      aim: '≤ 1.0× floor',
      value: r.overhead.cold.ratio,
      met: r.overhead.cold.ratio <= 1.0,
    };
    aims.warmOverhead = {
      aim: '≤ 1.1× floor',
      value: r.overhead.warm.ratio,
      met: r.overhead.warm.ratio <= 1.1,
    };
    const { cold, warm } = r.overhead.small;
    aims.coldOverhead5MB = { aim: '≤ 1.0× floor (5 MB event)', value: cold.ratio, met: cold.ratio <= 1.0 };
    aims.warmOverhead5MB = { aim: '≤ 1.1× floor (5 MB event)', value: warm.ratio, met: warm.ratio <= 1.1 };
  }
  if (r.trivial) {
    const { local, startup } = r.trivial;
    aims.localFixedCost = {
      aim: `runner − python3 ≤ node -e 0 (${startup.baselineMs} ms) + 40 ms, local empty handler`,
      value: local.extraMs,
      met: local.extraMs <= startup.baselineMs + 40,
    };
    aims.startup = {
      aim: '--version − node -e 0 ≤ 30 ms',
      value: startup.extraMs,
      met: startup.extraMs <= 30,
    };
    const n22 = r.trivial.imagesNode;
    if (n22) {
      aims.localFixedCostImagesNode = {
        aim: `the same on Node.js ${n22.version}: ≤ its node -e 0 (${n22.startup.baselineMs} ms) + 40 ms`,
        value: n22.local.extraMs,
        met: n22.local.extraMs <= n22.startup.baselineMs + 40,
      };
      aims.startupImagesNode = {
        aim: `--version − node -e 0 ≤ 30 ms on Node.js ${n22.version}`,
        value: n22.startup.extraMs,
        met: n22.startup.extraMs <= 30,
      };
    }
  }
  if (r.child) {
    const { moto, latency } = r.child;
    aims.itemChild = {
      aim: `≤ 1.10× floor (S3 at ${latency.s3LatencyMs} ms a request)`,
      value: latency.child.ratio,
      met: latency.child.ratio <= 1.1,
    };
    aims.itemChildMoto = {
      aim: '≤ 1.10× floor (moto as it is)',
      value: moto.child.ratio,
      met: moto.child.ratio <= 1.1,
    };
  }
  if (r.extension) {
    const extra = r.extension.idle.extraMs;
    aims.idleExtension = { aim: '≤ 50 ms over the same run without', value: extra, met: extra <= 50 };
  }
  if (r.memory) {
    const gain = r.memory.gain100MiBTo1GiBMb;
    aims.memoryFlat = { aim: 'peak(1 GiB) − peak(100 MiB) ≤ 16 MiB', value: gain, met: gain <= 16 };
    const at200 = r.memory.peakAt200MiBMb;
    aims.memory200MiB = { aim: 'peak RSS on a 200 MiB event ≤ 100 MiB', value: at200, met: at200 <= 100 };
  }
  return aims;
}

const row = (name: string, c: Comparison, baseline: string): string[] => [
  name,
  fmtRatio(c.ratio),
  fmtMs(c.runnerMs),
  `${fmtMs(c.baselineMs)} (${baseline})`,
  `${c.extraMs >= 0 ? '+' : ''}${fmtMs(c.extraMs)}`,
];

function stepsTable(title: string, c: Comparison): string {
  const rows: string[][] = [['runner step (median)', 'ms', '', 'floor step (median)', 'ms']];
  const r = Object.entries(c.runnerSteps ?? {});
  const f = Object.entries(c.baselineSteps ?? {});
  for (let i = 0; i < Math.max(r.length, f.length); i++) {
    const [rs, rv] = r[i] ?? ['', undefined];
    const [fs, fv] = f[i] ?? ['', undefined];
    rows.push([rs, rv === undefined ? '' : String(rv), '', fs, fv === undefined ? '' : String(fv)]);
  }
  return `${title}\n${table(rows)}`;
}

/** The speed table's rows: one per figure measured, ratio first. */
function speedRows(r: BenchResults): string[][] {
  const speed: string[][] = [['figure', 'ratio', 'runner', 'baseline', 'extra']];
  if (r.overhead) {
    speed.push(row('1 cold: 30 MB code + 5 MB layer, 20 MB event and result', r.overhead.cold, 'floor'));
    speed.push(row('2 warm: same, code cached', r.overhead.warm, 'floor without code'));
    speed.push(row('1 cold: same function, 5 MB event and result', r.overhead.small.cold, 'floor'));
    speed.push(row('2 warm: same, 5 MB, code cached', r.overhead.small.warm, 'floor without code'));
    speed.push(row('  (diagnostic) same, local files, no AWS', r.overhead.localNoAws, 'python3 alone'));
  }
  if (r.trivial) {
    speed.push(row('3a empty handler, local folder', r.trivial.local, 'python3 calls it'));
    speed.push(row('3b empty handler, deployed, S3 event/result', r.trivial.aws, 'curl + python3 + curl'));
    speed.push(row('   start-up: run-lambda --version', r.trivial.startup, 'node -e 0'));
    const n22 = r.trivial.imagesNode;
    if (n22) {
      speed.push(row(`3a on Node.js ${n22.version} (the images')`, n22.local, 'python3 calls it'));
      speed.push(row(`   start-up on Node.js ${n22.version}`, n22.startup, 'its node -e 0'));
    }
  }
  if (r.dispatcher) {
    const d = r.dispatcher;
    speed.push(row('5 dispatcher module load', d.load, 'import 3 SDK clients'));
    speed.push(row('5 SQS batch of 10 (one invoke)', d.sqsBatchOf10, '10 direct invokes'));
  }
  if (r.items) {
    const label = `6 ${r.items.items} payloads, one request (${r.items.submitJobCallsPerRequest} SubmitJob, array ${r.items.arraySize})`;
    speed.push(row(label, r.items.submit, 'bare PutObjects + 1 SubmitJob'));
  }
  if (r.child) {
    const c = r.child;
    for (const v of [c.moto, c.latency]) {
      const s3 = v.s3LatencyMs === 0 ? 'moto' : `S3 +${v.s3LatencyMs} ms`;
      speed.push(
        row(
          `7 a child of ${c.items} items, ${c.eventBytes / 1024} KB events (${s3})`,
          v.child,
          'python3: GET, handler, PUT',
        ),
      );
    }
  }
  if (r.opsStatus) {
    const o = r.opsStatus;
    const label = `8 lambda-batch status, ${o.items} items (${o.failed} failed, ${o.missing} missing)`;
    speed.push(row(label, o.status, "bare listing + failures' reads"));
  }
  if (r.extension)
    speed.push(row('9 one idle extension, local folder', r.extension.idle, 'same run without'));
  return speed;
}

export function printReport(r: BenchResults): void {
  const out: string[] = [];
  const speed = speedRows(r);
  out.push(`Speed (medians of ${r.repetitions} runs; ratio = runner / baseline)\n${table(speed)}`);
  if (r.child) {
    for (const v of [r.child.moto, r.child.latency]) {
      out.push(
        `7 (${v.s3LatencyMs === 0 ? 'moto' : `S3 +${v.s3LatencyMs} ms`}) per item: runner ${v.perItemRunnerMs} ms, floor ${v.perItemFloorMs} ms; ` +
          `runner steady state ${v.steadyPerItemMs} ms per item, fixed part ${fmtMs(v.fixedMs)} (node, GetFunction, the ` +
          `runtime's start, the last writes); runner CPU ${v.runnerCpuPerItemMs ?? '?'} ms per item (its own, start-up ` +
          `included); S3 requests per item: runner ${v.requestsPerItem.runner} (GET, PUT result, PUT record), floor ` +
          `${v.requestsPerItem.floor}`,
      );
    }
  }
  if (r.dispatcher) {
    const d = r.dispatcher;
    const lat: string[][] = [
      ['dispatcher direct invoke', 'ratio', 'median', 'p95', 'SDK-calls median', 'p95'],
    ];
    for (const [name, l] of [
      ['small payload (inline; SubmitJob)', d.small],
      ['1 MB payload (PutObject + SubmitJob)', d.oneMb],
    ] as const) {
      lat.push([
        name,
        fmtRatio(l.ratio),
        fmtMs(l.medianMs),
        fmtMs(l.p95Ms),
        fmtMs(l.baselineMedianMs),
        fmtMs(l.baselineP95Ms),
      ]);
    }
    out.push(
      `${table(lat)}\nbundle ${(d.bundleBytes / 1024).toFixed(0)} KiB (${(d.bundleGzipBytes / 1024).toFixed(0)} KiB gzipped); ` +
        `first invoke after load ${fmtMs(d.firstInvokeMs)}; ${d.samples} samples each`,
    );
  }
  if (r.memory) {
    const m = r.memory;
    const rows: string[][] = [['4 memory: event size', 'runner peak RSS', 'run time']];
    for (const p of m.points) {
      rows.push([`${(p.eventBytes / MB).toFixed(0)} MiB`, `${p.runnerPeakRssMb} MiB`, fmtMs(p.ms)]);
    }
    out.push(
      `${table(rows)}\n1 GiB / 1 MiB: ${fmtRatio(m.growth)}; 100 MiB → 1 GiB: +${m.gain100MiBTo1GiBMb} MiB; ` +
        `bare node -e 0: ${m.nodeBaselineMb} MiB`,
    );
  }
  if (r.overhead) {
    out.push(stepsTable('Where the cold run spends its time', r.overhead.cold));
    out.push(stepsTable('Where the warm run spends its time', r.overhead.warm));
    out.push(stepsTable('Where the warm run spends its time (5 MB event)', r.overhead.small.warm));
  }
  const aims = r.aims ?? {};
  if (Object.keys(aims).length > 0) {
    const rows = [['aim', 'target', 'value', 'met']];
    for (const [k, a] of Object.entries(aims)) rows.push([k, a.aim, String(a.value), a.met ? 'yes' : 'NO']);
    out.push(table(rows));
  }
  process.stdout.write(`\n${out.join('\n\n')}\n`);
}
