// A runtime the runner does not start (--external-runtime): the function's own image, in another container of the
// same task, connects to the Runtime API's address. Nothing to spawn, signal or restart; the runner waits for its
// first request up to --init-timeout.
import { RuntimeNotAvailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RuntimeHost } from './host.js';
import { setLongTimeout } from './long-timer.js';

/** DESIGN.md "External runtime": how long the runner waits for the runtime's first request by default. */
export const DEFAULT_INIT_TIMEOUT_S = 600;

export interface ExternalInput {
  /** `host:port` the Runtime API listens on (what the runtime's AWS_LAMBDA_RUNTIME_API must be). */
  address: string;
  /** Resolves at the current runtime's first request (the Runtime API's `connected`). */
  connected: () => Promise<void>;
  initTimeoutSeconds: number;
  log: Logger;
  /** A timer (tests pass their own so that they need no sleeps); returns how to cancel it. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

export function externalRuntime(input: ExternalInput): RuntimeHost {
  const setTimer = input.setTimer ?? setLongTimeout;
  const label = `an external runtime at ${input.address}`;
  return {
    label,
    ready() {
      return new Promise<void>((resolve, reject) => {
        const cancel = setTimer(() => {
          reject(
            new RuntimeNotAvailableError(
              `no runtime asked for an invocation at ${input.address} within ${input.initTimeoutSeconds} s (--init-timeout): ` +
                `the function's container must start its runtime with AWS_LAMBDA_RUNTIME_API=${input.address}`,
            ),
          );
        }, input.initTimeoutSeconds * 1000);
        input.connected().then(() => {
          cancel();
          resolve();
        });
      });
    },
    // The runner cannot see the other container's processes: a runtime that dies mid-invocation shows only as the
    // deadline (--timeout) passing, or as Batch's own job timeout.
    lost: () => new Promise<string>(() => {}),
    kill() {
      input.log.debug(`${label} cannot be killed from here; it is left to finish on its own`);
    },
    stop: async () => {},
    discard() {},
    end() {},
  };
}
