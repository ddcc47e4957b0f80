// Runs and times child processes for the bench: plain commands, and the built runner with its peak RSS probe.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;
export const RUNNER = join(ROOT, 'dist/run-lambda.mjs');
const PROBE = join(ROOT, 'bench/probe.mjs');

export interface Timed {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
}

export interface RunOpts {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** keep at most this many characters of stdout (default 64 KiB; large outputs are not the point) */
  keepStdout?: number;
}

/**
 * Spawns `cmd` asynchronously (the harness front answers from this process, so it must not block) and
 * measures wall time from spawn to close. A non-zero exit throws with the tail of stderr.
 */
export function timed(cmd: string, args: readonly string[], opts: RunOpts = {}): Promise<Timed> {
  const keep = opts.keepStdout ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < keep) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) {
        const tail = stderr.trimEnd().split('\n').slice(-40).join('\n');
        reject(new CommandFailedError(`${cmd} ${args.join(' ')} exited with code ${code}:\n${tail}`));
        return;
      }
      resolve({ ms, code, stdout, stderr });
    });
  });
}

export interface RunnerRun extends Timed {
  /** the runner process's own peak RSS (KiB) */
  maxRssKb: number;
  /** the runner process's own CPU time, user + system (ms; not the runtime's or any child's) */
  cpuMs: number;
  /** `<step> took N ms` lines of the debug log, by step */
  steps: Record<string, number>;
}

let probeSeq = 0;

/**
 * Runs `node dist/run-lambda.mjs --log-level debug …args` with the exit probe preloaded (`opts.node`: another
 * Node.js binary than the bench's own). `scratch` is a folder for the probe's report.
 */
export async function runRunner(
  args: readonly string[],
  scratch: string,
  opts: RunOpts & { node?: string } = {},
): Promise<RunnerRun> {
  const file = join(scratch, `probe-${process.pid}-${++probeSeq}.json`);
  const node = opts.node ?? process.execPath;
  const r = await timed(node, ['--import', PROBE, RUNNER, '--log-level', 'debug', ...args], {
    ...opts,
    env: { ...opts.env, BENCH_PROBE_FILE: file },
  });
  const probe = JSON.parse(await readFile(file, 'utf8')) as {
    maxRssKb: number;
    lifetimeMs: number;
    cpuMs: number;
  };
  await rm(file, { force: true });
  const steps = parseSteps(r.stderr);
  // Outside the log's clock: node start-up and loading the bundle before the logger exists, and the clean-up
  // and exit after the last line (lifetime − last line); spawn and reaping the process (wall − lifetime).
  steps['(process) lifetime'] = Math.round(probe.lifetimeMs);
  steps['(process) start-up + exit, outside the log'] = Math.round(
    probe.lifetimeMs - (steps['(at) last log line'] ?? 0),
  );
  steps['(process) spawn + reap'] = Math.round(r.ms - probe.lifetimeMs);
  return { ...r, maxRssKb: probe.maxRssKb, cpuMs: probe.cpuMs, steps };
}

/** Peak RSS (KiB) of a bare node process with the same probe: the floor any node program starts from. */
export async function nodeBaselineRssKb(scratch: string): Promise<number> {
  const file = join(scratch, `probe-${process.pid}-${++probeSeq}.json`);
  await timed(process.execPath, ['--import', PROBE, '-e', '0'], { env: { BENCH_PROBE_FILE: file } });
  const probe = JSON.parse(await readFile(file, 'utf8')) as { maxRssKb: number };
  await rm(file, { force: true });
  return probe.maxRssKb;
}

/**
 * Step timings from the runner's debug log: `run-lambda [T ms]: debug: <step> took N ms` lines, plus
 * `(at)` moments (ms since the runner's logger started): downloads done, runtime started, event handed over,
 * last line.
 */
export function parseSteps(stderr: string): Record<string, number> {
  const steps: Record<string, number> = {};
  let last = 0;
  for (const line of stderr.split('\n')) {
    const m = /^run-lambda \[(\d+) ms\]: (?:debug: )?(.*)$/.exec(line);
    if (!m) continue;
    last = Number(m[1]);
    const took = /^(.*) took (\d+) ms$/.exec(m[2] ?? '');
    if (took) steps[took[1]!] = Number(took[2]);
    if (m[2]?.startsWith('runtime started')) steps['(at) runtime started'] = last;
    if (m[2]?.startsWith('event handed to the runtime')) steps['(at) event handed to the runtime'] = last;
    const done = /^downloading the (.*?)(?: of [^:]+)?: 100% of /.exec(m[2] ?? '');
    if (done) steps[`(at) ${done[1]} downloaded`] = last;
    if (/^payload: \d+ bytes from /.test(m[2] ?? '')) steps['(at) payload downloaded'] = last;
  }
  steps['(at) last log line'] = last;
  return steps;
}
