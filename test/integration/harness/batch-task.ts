// Runs the containers of one Batch job attempt as ECS runs a task: each container starts once its dependsOn
// conditions hold (START: the other started; COMPLETE: it exited; SUCCESS: it exited 0, else never), and when an
// essential container exits the others are stopped (SIGTERM, then SIGKILL 2 s later). A container is a process on
// this host, a folder image run as a process, or a Docker container with host networking (local-images.ts). A task
// of one PID namespace (pidMode task) has its Docker containers join the first one's (`--pid container:`), or the
// host's when that one is a process here (processes here share the host's already).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import type { LocalImage } from './local-images.js';

export interface ContainerSpec {
  name: string;
  essential: boolean;
  dependsOn: { containerName?: string; condition?: string }[];
  /** `host`: the command on this machine's PATH (the run-lambda images' `run`), else a local image */
  image: LocalImage | 'host';
  /** undefined: the image's own CMD */
  command: string[] | undefined;
  /** the container's environment as Batch sets it (the image's own ENV comes first, under it) */
  env: Record<string, string>;
  volumes?: string[];
  /** a container of the task whose PID namespace this one joins (the task's pidMode task) */
  sharePidWith?: string;
  /** told each chunk the container writes, stdout and stderr alike, as the awslogs driver takes both */
  onOutput?: (text: string) => void;
}

export interface ContainerResult {
  name: string;
  started: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** what ran: the argv (for docker, the image command) */
  command: string[];
  /** `process` or the image it ran from */
  ranIn: string;
}

export interface TaskOptions {
  /** PATH for `host` containers (a bin with `run` first) */
  hostPath: string;
  /** send SIGTERM to every container after this many ms, as Batch does on cancel or timeout */
  killAfterMs?: number;
  /** polled every 20 ms while the task runs: once true, every container gets `signal` (a host lost mid-way) */
  stopWhen?: { check: () => boolean; signal: NodeJS.Signals };
}

interface Running {
  spec: ContainerSpec;
  result: ContainerResult;
  child?: ChildProcess;
  stop?: () => void;
  /** sends `signal` to the container at once (docker kill for a Docker container) */
  signal: (signal: NodeJS.Signals) => void;
  exited: Promise<void>;
  done: boolean;
  /** the Docker container's name (none for a process) */
  dockerName?: string;
}

/** Whether Docker runs the container `name` now. */
const dockerRunning = (name: string) =>
  new Promise<boolean>((resolve) => {
    execFile('docker', ['inspect', '--format', '{{.State.Running}}', name], (err, out) =>
      resolve(!err && out.trim() === 'true'),
    );
  });

/**
 * `docker run --pid` for `spec`: the container it shares a PID namespace with (once Docker runs it: `docker run` of
 * the other may have been started a moment ago, and `--pid container:` needs it running), or the host's for a process
 * there.
 */
async function pidOption(spec: ContainerSpec, runs: Map<string, Running>): Promise<string | undefined> {
  if (spec.sharePidWith === undefined) return undefined;
  const other = runs.get(spec.sharePidWith);
  if (!other)
    throw new Error(`container ${spec.name} shares the PID namespace of ${spec.sharePidWith}, not started`);
  if (!other.dockerName) return 'host';
  for (let tries = 0; tries < 600 && !other.done && !(await dockerRunning(other.dockerName)); tries++)
    await new Promise((r) => setTimeout(r, 100));
  return `container:${other.dockerName}`;
}

function launch(spec: ContainerSpec, opts: TaskOptions, pid?: string): Omit<Running, 'spec'> {
  const base = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    TMPDIR: tmpdir(),
  };
  let file: string;
  let args: string[];
  let env: Record<string, string>;
  let cwd = tmpdir();
  let ranIn = 'process';
  let stop: (() => void) | undefined;
  let signalIt: ((signal: NodeJS.Signals) => void) | undefined;
  let dockerName: string | undefined;
  const img = spec.image;
  if (img === 'host') {
    const argv = spec.command ?? [];
    file = argv[0] ?? '';
    args = argv.slice(1);
    env = { ...base, PATH: opts.hostPath, ...spec.env };
  } else if (img.kind === 'folder') {
    const argv = [...img.config.entrypoint, ...(spec.command ?? img.config.cmd)];
    file = argv[0] ?? '';
    args = argv.slice(1);
    env = { ...base, ...img.config.env, ...spec.env };
    cwd = img.config.workingDir;
    ranIn = img.describe;
  } else {
    const name = `run-lambda-test-${spec.name}-${randomBytes(4).toString('hex')}`;
    file = 'docker';
    dockerName = name;
    args = ['run', '--rm', '--network', 'host', '--name', name];
    if (pid) args.push('--pid', pid);
    for (const v of spec.volumes ?? []) args.push('--volume', v);
    for (const [k, v] of Object.entries(spec.env)) args.push('--env', `${k}=${v}`);
    args.push(img.ref, ...(spec.command ?? []));
    env = { ...process.env } as Record<string, string>;
    ranIn = img.describe;
    stop = () => {
      spawn('docker', ['stop', '--time', '2', name], { stdio: 'ignore' }).on('error', () => {});
    };
    signalIt = (sig) => {
      spawn('docker', ['kill', '--signal', sig, name], { stdio: 'ignore' }).on('error', () => {});
    };
  }
  const result: ContainerResult = {
    name: spec.name,
    started: true,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    command: img !== 'host' && img.kind === 'docker' ? (spec.command ?? []) : [file, ...args],
    ranIn,
  };
  const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => {
    result.stdout += d.toString();
    spec.onOutput?.(d.toString());
  });
  child.stderr?.on('data', (d: Buffer) => {
    result.stderr += d.toString();
    spec.onOutput?.(d.toString());
  });
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      result.stderr += `${err.message}\n`;
      result.exitCode = 127;
      resolve();
    });
    child.on('close', (code, signal) => {
      result.exitCode = code;
      result.signal = signal;
      resolve();
    });
  });
  if (!stop) {
    stop = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    };
  }
  const signal = signalIt ?? ((sig: NodeJS.Signals) => child.kill(sig));
  return { result, child, stop, signal, exited, done: false, dockerName };
}

/** Runs `containers` to the task's end; every container's result, by name (not started: `started` false). */
export async function runTask(
  containers: ContainerSpec[],
  opts: TaskOptions,
): Promise<Record<string, ContainerResult>> {
  const runs = new Map<string, Running>();
  const never = new Set<string>();
  let stopping = false;
  let wake: () => void = () => {};
  const changed = () => wake();

  const stopAll = () => {
    stopping = true;
    for (const r of runs.values()) if (!r.done) r.stop?.();
  };
  const kill = opts.killAfterMs === undefined ? undefined : setTimeout(stopAll, opts.killAfterMs);
  const stopWhen = opts.stopWhen;
  const poll = stopWhen
    ? setInterval(() => {
        if (!stopWhen.check()) return;
        clearInterval(poll);
        for (const r of runs.values()) if (!r.done) r.signal(stopWhen.signal);
      }, 20)
    : undefined;

  // START: the other started; COMPLETE: it exited; SUCCESS: it exited 0 (a non-zero exit means never).
  const state = (spec: ContainerSpec): 'wait' | 'go' | 'never' => {
    for (const d of spec.dependsOn) {
      const dep = runs.get(d.containerName ?? '');
      if (never.has(d.containerName ?? '')) return 'never';
      if (!dep) return 'wait';
      if (d.condition === 'START') continue;
      if (!dep.done) return 'wait';
      if (d.condition === 'SUCCESS' && dep.result.exitCode !== 0) return 'never';
    }
    return 'go';
  };

  for (;;) {
    let progressed = true;
    while (progressed && !stopping) {
      progressed = false;
      for (const spec of containers) {
        if (runs.has(spec.name) || never.has(spec.name)) continue;
        const s = state(spec);
        if (s === 'wait') continue;
        progressed = true;
        if (s === 'never') {
          never.add(spec.name);
          continue;
        }
        const pid = await pidOption(spec, runs);
        if (stopping) break;
        const r: Running = { spec, ...launch(spec, opts, pid) };
        runs.set(spec.name, r);
        r.exited.then(() => {
          r.done = true;
          if (spec.essential) stopAll();
          changed();
        });
      }
    }
    // Nothing running and nothing startable: the task is over (a dependency that cannot hold never starts).
    if ([...runs.values()].every((r) => r.done)) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  clearTimeout(kill);
  clearInterval(poll);
  const out: Record<string, ContainerResult> = {};
  for (const spec of containers)
    out[spec.name] = runs.get(spec.name)?.result ?? {
      name: spec.name,
      started: false,
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      command: spec.command ?? [],
      ranIn: 'not started',
    };
  return out;
}
