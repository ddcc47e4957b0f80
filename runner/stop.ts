// What a stop signal (SIGTERM from Batch, a Ctrl-C) does to a run: whatever fails after it failed because of it
// (StoppedBySignalError, exit 128+N); a step that cannot be interrupted is left behind, and what it leaves is waited
// for a little while. The stop is an AbortSignal aborted with the signal's name (cli.ts).
import { StoppedBySignalError } from './errors.js';
import type { Logger } from './log.js';

/** The signal that stopped the run (its AbortSignal's reason); SIGTERM when it gave none. */
export function stopSignal(signal: AbortSignal | undefined): NodeJS.Signals {
  return (signal?.reason as NodeJS.Signals | undefined) ?? 'SIGTERM';
}

/** The run's error after a stop. */
export function stoppedBy(signal: AbortSignal | undefined): StoppedBySignalError {
  return new StoppedBySignalError(stopSignal(signal));
}

/** Rejects with StoppedBySignalError as soon as `signal` aborts (for steps that cannot be interrupted). */
export function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stoppedBy(signal));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Resolves when `p` settles or `ms` have passed, whichever comes first. */
export function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * After a stop, whatever failed failed because of it (a cut stdin read, an aborted GetObject): the run was stopped,
 * exit 128+N, never a retried 4 or a function error.
 */
export function asStopped(err: unknown, signal: AbortSignal | undefined, log: Logger): unknown {
  if (!signal?.aborted || err instanceof StoppedBySignalError) return err;
  log.debug(`after the stop: ${(err as Error)?.message ?? String(err)}`);
  return stoppedBy(signal);
}
