// Where the runtime the Runtime API serves lives: a process the runner spawns and supervises (supervisor.ts), or one
// started elsewhere that connects to the runner's address (external.ts). The serving code (session.ts) sees only this.

/** The error types a lost runtime's invocation fails with (Lambda's own). */
export const RuntimeLossType = { exit: 'Runtime.ExitError', outOfMemory: 'Runtime.OutOfMemory' } as const;
export type RuntimeLossType = (typeof RuntimeLossType)[keyof typeof RuntimeLossType];

/** How a runtime went away: the words for it ("runtime was killed with SIGKILL") and what its invocation fails as. */
export interface RuntimeLoss {
  reason: string;
  errorType: RuntimeLossType;
}

export interface RuntimeHost {
  /** For logs: "the runner's Python client", "an external runtime at 127.0.0.1:9001". */
  readonly label: string;
  /**
   * Resolves when a runtime is there to take the next invocation: a spawned one is started if none is running; an
   * external one has made its first request. Rejects with the run's error (exit 3) when there can be none.
   */
  ready(): Promise<void>;
  /** Resolves with how the current runtime went away ("exited with code 1"); never, for one the runner cannot see. */
  lost(): Promise<RuntimeLoss>;
  /** The deadline passed: the runtime is killed at once (an external one cannot be, and is left to itself). */
  kill(): void;
  /** A stop signal: passed on to the runtime; resolves once it is gone (at once for an external one). */
  stop(signal: NodeJS.Signals): Promise<void>;
  /** The runtime is of no more use (it crashed or was killed): everything of it is ended; `ready` starts anew. */
  discard(): void;
  /** Ends everything of the run's runtimes (the last step of a run). */
  end(): void;
  /** The current runtime's process id, for one the runner started (its memory is reported); undefined otherwise. */
  pid(): number | undefined;
}
