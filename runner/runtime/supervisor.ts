// Supervises the runtime process the runner starts: Lambda's environment, its own process group, the keeper and the
// run's mark, exit and signals, and a fresh process when the last one crashed or was killed (item sets).
import { randomUUID } from 'node:crypto';
import type { Env } from '../../lib/env.js';
import { RuntimeNotAvailableError } from '../errors.js';
import type { PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { RUN_MARK, runtimeEnv } from './env.js';
import { throughWrapper } from './exec-wrapper.js';
import { type RuntimeHost, type RuntimeLoss, RuntimeLossType } from './host.js';
import { type OomCount, oomCounter } from './oom.js';
import { type RuntimeProcess, type StartRuntimeDeps, startRuntime } from './process.js';
import { describeExit, type RuntimeExit, type SpawnFn } from './process-group.js';
import type { RuntimeCommand } from './which-runtime.js';

/** How long a runtime gets to exit after a forwarded SIGTERM/SIGINT before its group is killed. */
export const STOP_GRACE_MS = 2000;

export interface SupervisorDeps {
  fn: PreparedFunction;
  command: RuntimeCommand;
  /** AWS_LAMBDA_RUNTIME_API: the address the Runtime API listens on. */
  runtimeApi: string;
  env: Env;
  spawn: SpawnFn;
  log: Logger;
  stopGraceMs?: number;
  /** The cgroup file whose `oom_kill` count tells an out-of-memory kill (--memory-events; default the runner's own) */
  memoryEvents?: string;
  /** The run's mark (a fresh one when not given): every runtime process carries it. */
  runMark?: string;
  /** The runtime's output through the runner, cut into lines (when extensions may subscribe to it): process.ts. */
  pipe?: StartRuntimeDeps['pipe'];
}

/**
 * How a runtime that started when the OOM count was `before` went: killed (SIGKILL, or 137 from a shell that ran it)
 * while the count rose is Runtime.OutOfMemory; any other end is Runtime.ExitError, in the usual words.
 */
async function lossOf(exit: RuntimeExit, before: number | undefined, count: OomCount): Promise<RuntimeLoss> {
  const reason = `runtime ${describeExit(exit)}`;
  if (before === undefined || !(exit.signal === 'SIGKILL' || exit.code === 137))
    return { reason, errorType: RuntimeLossType.exit };
  const after = await count();
  if (after === undefined || after <= before) return { reason, errorType: RuntimeLossType.exit };
  return {
    reason: `${reason} by the out-of-memory killer (its cgroup's oom_kill count rose from ${before} to ${after})`,
    errorType: RuntimeLossType.outOfMemory,
  };
}

export function superviseRuntime(deps: SupervisorDeps): RuntimeHost {
  const { log, command } = deps;
  // One mark for every process of the run, restarted runtimes included: what leaves a group is found by it.
  const runMark = deps.runMark ?? randomUUID();
  let current: { proc: RuntimeProcess; lost: Promise<RuntimeLoss> } | undefined;
  const oomKills = oomCounter(deps.memoryEvents);
  let starting: Promise<void> | undefined;
  let starts = 0;

  const start = async () => {
    const env = runtimeEnv({
      runMark,
      fn: deps.fn,
      base: deps.env,
      runtimeApi: deps.runtimeApi,
      runtimeDir: command.runtimeDir,
    });
    const how = throughWrapper(command, env);
    // Read before the runtime starts: a kill it causes is counted after.
    const oomBefore = await oomKills();
    const proc = await startRuntime({
      command: how.command,
      args: how.args,
      env,
      cwd: deps.fn.taskRoot,
      spawn: deps.spawn,
      mark: [RUN_MARK, runMark],
      ...(deps.pipe ? { pipe: deps.pipe } : {}),
    }).catch((err: Error) => {
      throw new RuntimeNotAvailableError(`cannot start ${command.command}: ${err.message}`, { cause: err });
    });
    starts += 1;
    const again = starts > 1 ? ' again' : '';
    log.debug(`runtime started${again} (pid ${proc.pid}): ${[how.command, ...how.args].join(' ')}`);
    current = { proc, lost: proc.exited.then((exit) => lossOf(exit, oomBefore, oomKills)) };
  };

  const endCurrent = () => {
    const marked = current?.proc.end() ?? [];
    if (marked.length > 0)
      log.debug(`ended ${marked.length} process(es) of the run outside its group: ${marked.join(' ')}`);
    current = undefined;
  };

  return {
    label: command.label,
    ready() {
      if (current) return Promise.resolve();
      starting ??= start().finally(() => {
        starting = undefined;
      });
      return starting;
    },
    lost() {
      return current?.lost ?? new Promise<RuntimeLoss>(() => {});
    },
    kill() {
      current?.proc.signalGroup('SIGKILL');
    },
    async stop(signal) {
      const running = current?.proc;
      if (!running) return;
      log.info(`received ${signal}; passing it to the runtime`);
      running.signalGroup(signal);
      const grace = setTimeout(() => running.signalGroup('SIGKILL'), deps.stopGraceMs ?? STOP_GRACE_MS);
      await running.exited;
      clearTimeout(grace);
    },
    discard: endCurrent,
    end: endCurrent,
    pid: () => current?.proc.pid,
  };
}
