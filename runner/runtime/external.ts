// A runtime the runner does not start (--external-runtime): the function's own image, in another container of the
// same task, connects to the Runtime API's address. Nothing to spawn, signal or restart; the runner waits for its
// first request up to --init-timeout. In the task's one PID namespace (the job definition's pidMode task) the runner
// finds the process that asked for the event and watches it: one that dies fails its invocation within seconds as
// Runtime.ExitError, and, since its container is not restarted, every later one too.
import { FunctionError, RuntimeNotAvailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { type RuntimeHost, type RuntimeLoss, RuntimeLossType } from './host.js';
import { setLongTimeout } from './long-timer.js';
import { findPeerProcess, type ProcDeps, type ProcessWatch, watchProcess } from './peer-process.js';
import type { Connection } from './procfs.js';

/** How long the runner waits for the runtime's first request by default (--init-timeout, docs/runner.md "Options"). */
export const DEFAULT_INIT_TIMEOUT_S = 600;

export interface ExternalRuntimeDeps {
  /** `host:port` the Runtime API listens on (what the runtime's AWS_LAMBDA_RUNTIME_API must be). */
  address: string;
  /** Resolves at the current runtime's first request (the Runtime API's `connected`). */
  connected: () => Promise<void>;
  /**
   * Registers what runs on each `next` request with its connection (the Runtime API's `onNext`): the event is handed
   * out only once it settles, so the connection is still open while its process is looked for.
   */
  onNext?: (hook: (conn: Connection) => Promise<void>) => void;
  initTimeoutSeconds: number;
  log: Logger;
  /** A timer (tests pass their own so that they need no sleeps); returns how to cancel it. */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** Where /proc is and who the runner is (tests lay out their own), and how often the runtime is looked at. */
  proc?: ProcDeps & { pollMs?: number };
}

/** The runtime's process, found at its first `next` and watched: what the host below knows of its life. */
interface RuntimeWatch {
  /** Runs on each `next` (its first finds the process) */
  onNext(conn: Connection): Promise<void>;
  /** Resolves once the process is gone; never where it could not be found */
  lost: Promise<RuntimeLoss>;
  /** How it went, once it is gone */
  gone(): RuntimeLoss | undefined;
  stop(): void;
}

/**
 * Found once: the same process serves every later invocation (a custom runtime that asks with a short-lived helper is
 * the helper's parent, which stays). Where it cannot be found, that is said once, and the deadline (or Batch's own
 * timeout) stays what ends a runtime that died.
 */
function watchRuntime(log: Logger, proc: ExternalRuntimeDeps['proc']): RuntimeWatch {
  let watch: ProcessWatch | undefined;
  let looking: Promise<void> | undefined;
  let gone: RuntimeLoss | undefined;
  let stopped = false;
  let identified!: (loss: Promise<RuntimeLoss>) => void;
  const lost = new Promise<RuntimeLoss>((resolve) => {
    identified = (l) => void l.then(resolve);
  });
  const identify = async (conn: Connection) => {
    const found = await findPeerProcess(conn, proc).catch((err: Error) => ({
      ok: false as const,
      why: err.message,
    }));
    if (!found.ok) {
      log.warn(
        `cannot tell which process is the function's runtime (${found.why}): one that dies will be seen only at the deadline; its job needs one PID namespace for the task (pidMode task)`,
      );
      return;
    }
    const { stat } = found;
    log.debug(`the function's runtime is process ${stat.pid} (${stat.comm}); watching it until the run ends`);
    if (stopped) return;
    watch = watchProcess(stat, proc);
    const reason = `the function's runtime (process ${stat.pid}, ${stat.comm}) ended`;
    identified(
      watch.gone.then(() => {
        gone = { reason, errorType: RuntimeLossType.exit };
        return gone;
      }),
    );
  };
  return {
    onNext(conn) {
      looking ??= identify(conn);
      return looking;
    },
    lost,
    gone: () => gone,
    stop() {
      stopped = true;
      watch?.stop();
    },
  };
}

export function externalRuntime(deps: ExternalRuntimeDeps): RuntimeHost {
  const setTimer = deps.setTimer ?? setLongTimeout;
  const label = `an external runtime at ${deps.address}`;
  const { log } = deps;
  const watch = watchRuntime(log, deps.proc);
  deps.onNext?.((conn) => watch.onNext(conn));

  return {
    label,
    ready() {
      const gone = watch.gone();
      if (gone)
        return Promise.reject(
          new FunctionError(
            RuntimeLossType.exit,
            `${gone.reason}, and a runtime in another container is not started again: nothing more can be served`,
          ),
        );
      return new Promise<void>((resolve, reject) => {
        const cancel = setTimer(() => {
          reject(
            new RuntimeNotAvailableError(
              `no runtime asked for an invocation at ${deps.address} within ${deps.initTimeoutSeconds} s (--init-timeout): ` +
                `the function's container must start its runtime with AWS_LAMBDA_RUNTIME_API=${deps.address}`,
            ),
          );
        }, deps.initTimeoutSeconds * 1000);
        deps.connected().then(() => {
          cancel();
          resolve();
        });
      });
    },
    lost: () => watch.lost,
    kill() {
      log.debug(`${label} is not ended from here; it is left to finish on its own`);
    },
    stop: async () => {},
    discard() {},
    end: () => watch.stop(),
    pid: () => undefined,
  };
}
