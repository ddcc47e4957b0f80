// What a run cost, from its attempts' start and stop times and its resources: vCPU-seconds and GiB-seconds for any
// compute, and on Fargate an estimate in dollars from the price table in this folder (prices.json: its region, source
// and date), per second with Fargate's one-minute minimum per task. EC2 compute is not priced here: its cost is the
// instances', which several jobs share.

import type { AttemptView, Resources } from './job.js';
import prices from './prices.json' with { type: 'json' };

export const PRICES = prices;

/** A compute environment's kind, as Batch names it (UNMANAGED ones are EC2 instances of your own). */
export type Capacity = 'FARGATE' | 'FARGATE_SPOT' | 'EC2' | 'SPOT';
export type Architecture = 'x86_64' | 'arm64';

/** One job's (or array child's) attempts, each run with `resources`. */
export interface RunUsage {
  attempts: AttemptView[];
  resources: Resources;
}

export interface Dollars {
  capacity: 'FARGATE' | 'FARGATE_SPOT';
  architecture: Architecture;
  usd: number;
}

export interface CostEstimate {
  vcpuSeconds: number;
  gibSeconds: number;
  /** attempts counted (ended, or running: counted up to `now`) */
  attempts: number;
  /** attempts that could not be counted: no start time, or no vCPU/memory known */
  uncounted: number;
  /** one estimate per Fargate kind the job's queue may have run it on */
  dollars: Dollars[];
}

export function architectureOf(cpu: string | undefined): Architecture {
  return cpu?.toUpperCase() === 'ARM64' ? 'arm64' : 'x86_64';
}

function rate(capacity: Dollars['capacity'], arch: Architecture): { vcpu_hour: number; gb_hour: number } {
  return (capacity === 'FARGATE' ? prices.fargate : prices.fargate_spot)[arch];
}

/**
 * The cost of `runs` on the compute kinds `capacity` (the job queue's; several when Batch does not say which ran
 * it), for an `arch` task. An attempt still running counts up to `now`.
 */
export function estimateCost(
  runs: readonly RunUsage[],
  capacity: readonly Capacity[],
  arch: Architecture,
  now: number,
): CostEstimate {
  const fargate = [...new Set(capacity)].filter((c): c is Dollars['capacity'] => c.startsWith('FARGATE'));
  const usd = new Map<Dollars['capacity'], number>(fargate.map((c) => [c, 0]));
  const out: CostEstimate = { vcpuSeconds: 0, gibSeconds: 0, attempts: 0, uncounted: 0, dollars: [] };
  for (const run of runs) {
    const { vcpus, memoryMiB } = run.resources;
    for (const a of run.attempts) {
      if (a.startedAt === undefined || vcpus === undefined || memoryMiB === undefined) {
        out.uncounted++;
        continue;
      }
      const seconds = Math.max(0, ((a.stoppedAt ?? now) - a.startedAt) / 1000);
      out.attempts++;
      out.vcpuSeconds += vcpus * seconds;
      out.gibSeconds += (memoryMiB / 1024) * seconds;
      // Fargate bills each task by the second, a minute at least.
      const billed = Math.max(prices.minimum_seconds, Math.ceil(seconds));
      for (const c of fargate) {
        const r = rate(c, arch);
        usd.set(c, usd.get(c)! + (billed / 3600) * (vcpus * r.vcpu_hour + (memoryMiB / 1024) * r.gb_hour));
      }
    }
  }
  out.dollars = fargate.map((c) => ({ capacity: c, architecture: arch, usd: usd.get(c)! }));
  return out;
}

/** Resources of a task of several containers: their sum (what Fargate sizes the task by). */
export function taskResources(containers: readonly Resources[]): Resources {
  const sum = (key: keyof Resources) => containers.reduce((n, c) => n + (c[key] ?? 0), 0);
  const r: Resources = {};
  if (sum('vcpus') > 0) r.vcpus = sum('vcpus');
  if (sum('memoryMiB') > 0) r.memoryMiB = sum('memoryMiB');
  if (sum('gpus') > 0) r.gpus = sum('gpus');
  return r;
}
