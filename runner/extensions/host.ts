// The run's external extensions through Lambda's execution environment lifecycle (the Extensions API document's Init,
// Invoke and Shutdown phases): started before the runtime, which starts once every one registered; init ends when every
// one asked for its next event (within the Init phase's 10 s); each invocation is an INVOKE to those subscribed, and ends
// for them when they ask again (at most --extension-timeout after the runtime answered, then the run goes on without
// them); at the end, SHUTDOWN with 2,000 ms to go, then SIGKILL of what remains.
import { FunctionError } from '../errors.js';
import type { Logger } from '../log.js';
import { killMarked } from '../runtime/leftovers.js';
import { describeExit, type RuntimeExit } from '../runtime/process-group.js';
import {
  EXTENSION_INIT_LIMIT_MS,
  type InvokeEvent,
  MAX_EXTENSIONS,
  SHUTDOWN_LIMIT_MS,
  type ShutdownReason,
  shutdownEvent,
} from './events.js';
import type { LaunchedExtension } from './launch.js';
import type { ExtensionRegistry, ExtensionView } from './registry.js';

/** The error types Lambda fails an init with when an extension crashes or never gets through its init. */
export const ExtensionFailure = {
  crash: 'Extension.Crash',
  initTimeout: 'Extension.InitTimeout',
  launch: 'Extension.LaunchError',
  tooMany: 'Extension.TooManyExtensions',
} as const;

/** One extension as the run record names it. */
export interface ExtensionSummary {
  name: string;
  /** false for one registered from inside the runtime process */
  external: boolean;
  registered: boolean;
  /** the events it registered for */
  events: string[];
  /** the type it reported with init/error or exit/error */
  errorType?: string;
}

export interface ExtensionHostDeps {
  registry: ExtensionRegistry;
  found: readonly { name: string; path: string }[];
  launch(ext: { name: string; path: string }): Promise<LaunchedExtension>;
  log: Logger;
  /** --extension-timeout, in ms */
  extensionTimeoutMs: number;
  /** `[RUN_MARK, value]` the extensions' processes carry: what a group kill misses is found by it. */
  mark: readonly [string, string];
  /**
   * Starts a keeper for the group `pgid` and the mark (runtime/process.ts): should the runner die by SIGKILL, the
   * extensions die with it.
   */
  keep?(pgid: number): { kill(signal: NodeJS.Signals): unknown } | undefined;
  now?: () => number;
}

export interface ExtensionHost {
  readonly names: readonly string[];
  /** Resolves once every extension registered (the runtime may start); rejects with the run's error. */
  registered(): Promise<void>;
  /** Resolves once every registered extension asked for its next event; rejects with the run's error. */
  initialized(): Promise<void>;
  /** The invocation starts: INVOKE to those subscribed (init is over: registration closes). */
  invoke(event: InvokeEvent): void;
  /** Waits (up to --extension-timeout) for those given the last INVOKE to ask again; returns the late ones' names. */
  settle(): Promise<string[]>;
  /** SHUTDOWN (`beforeEvent` first: the telemetry's last flush), 2 s for them to end, then SIGKILL of what remains. */
  shutdown(reason: ShutdownReason, beforeEvent?: () => Promise<void>): Promise<void>;
  summary(): ExtensionSummary[];
}

const sleep = (ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const p = new Promise<void>((r) => {
    timer = setTimeout(r, Math.max(0, ms));
  });
  return { p, cancel: () => clearTimeout(timer) };
};

/** Waits for `check` to say something, re-checking at every change of the registry, until `deadlineMs`. */
async function until<T>(
  registry: ExtensionRegistry,
  check: () => T | undefined,
  deadlineMs: number,
  now: () => number,
): Promise<T | undefined> {
  for (;;) {
    const r = check();
    if (r !== undefined) return r;
    const left = deadlineMs - now();
    if (left <= 0) return undefined;
    const wait = sleep(left);
    await Promise.race([registry.whenChanged(), wait.p]);
    wait.cancel();
  }
}

/** Starts the extensions; the run fails (exit 1) when there are too many or one cannot be started. */
export async function startExtensions(deps: ExtensionHostDeps): Promise<ExtensionHost> {
  const { registry, log } = deps;
  const now = deps.now ?? Date.now;
  const names = deps.found.map((f) => f.name);
  if (names.length > MAX_EXTENSIONS) {
    throw new FunctionError(
      ExtensionFailure.tooMany,
      `${names.length} extensions in the opt dir's extensions/ folder; Lambda allows at most ${MAX_EXTENSIONS}`,
    );
  }
  registry.expect(names);
  const exits = new Map<string, RuntimeExit>();
  const launched: LaunchedExtension[] = [];
  try {
    for (const ext of deps.found) launched.push(await deps.launch(ext));
  } catch (err) {
    for (const l of launched) l.signal('SIGKILL');
    throw new FunctionError(ExtensionFailure.launch, `cannot start an extension: ${(err as Error).message}`);
  }
  for (const l of launched) {
    void l.exited.then((exit) => {
      exits.set(l.name, exit);
      log.debug(`extension ${l.name} ${describeExit(exit)}`);
      registry.exited(l.name);
    });
  }
  log.debug(`started ${names.length} extension(s): ${names.join(', ')}`);
  const keeper = launched[0] ? deps.keep?.(launched[0].pid) : undefined;
  const end = () => {
    endAll(launched, exits, deps.mark, log);
    keeper?.kill('SIGKILL');
  };
  return extensionHost(deps, { launched, exits, end }, now() + EXTENSION_INIT_LIMIT_MS);
}

/** The run's error if an extension failed its init; undefined while all is well. */
function initFailure(
  registry: ExtensionRegistry,
  exits: Map<string, RuntimeExit>,
): FunctionError | undefined {
  for (const v of registry.list()) {
    if (v.state === 'failed') {
      const what = `extension ${v.name} reported an error during init`;
      return new FunctionError(
        v.errorType ?? ExtensionFailure.crash,
        v.errorMessage ? `${what}: ${v.errorMessage}` : what,
      );
    }
    if (v.state === 'exited') {
      const exit = exits.get(v.name);
      return new FunctionError(
        ExtensionFailure.crash,
        `extension ${v.name} ${exit ? describeExit(exit) : 'exited'} before init ended`,
      );
    }
  }
  return undefined;
}

/** What an init step waits on: the extensions, their exits, and Lambda's init limit (an epoch ms). */
interface InitWait {
  registry: ExtensionRegistry;
  exits: Map<string, RuntimeExit>;
  deadline: number;
  now: () => number;
}

/** Waits until every extension is `done` (registered, or asked for its first event), one fails, or the limit. */
async function initStep(w: InitWait, done: (v: ExtensionView) => boolean, what: string): Promise<void> {
  const pending = () => w.registry.list().filter((v) => !done(v));
  const r = await until(
    w.registry,
    () => initFailure(w.registry, w.exits) ?? (pending().length === 0 ? true : undefined),
    w.deadline,
    w.now,
  );
  if (r instanceof FunctionError) throw r;
  if (r === undefined) {
    const late = pending().map((v) => v.name);
    throw new FunctionError(
      ExtensionFailure.initTimeout,
      `extension ${late.join(', ')} did not ${what} within Lambda's init limit of ${EXTENSION_INIT_LIMIT_MS / 1000} s`,
    );
  }
}

/** After the runtime's answer, waits up to --extension-timeout for those told of the invocation to ask again. */
async function settle(deps: ExtensionHostDeps, waitingFor: string[], now: () => number): Promise<string[]> {
  const { registry } = deps;
  const late = () =>
    registry.list().filter((v) => waitingFor.includes(v.name) && v.state === 'ready' && !v.idle);
  await until(registry, () => (late().length === 0 ? true : undefined), now() + deps.extensionTimeoutMs, now);
  const names = late().map((v) => v.name);
  if (names.length > 0) {
    deps.log.warn(
      `extension ${names.join(', ')} did not ask for its next event within ${deps.extensionTimeoutMs / 1000} s of the runtime's answer (--extension-timeout); going on without waiting for it`,
    );
  }
  return names;
}

/** SHUTDOWN to those subscribed, then waits until each has exited or asked again (or the 2 s limit): then all end. */
async function shutdown(
  deps: ExtensionHostDeps,
  procs: { launched: LaunchedExtension[]; exits: Map<string, RuntimeExit>; end(): void },
  reason: Parameters<ExtensionHost['shutdown']>[0],
  now: () => number,
): Promise<void> {
  const { registry } = deps;
  const deadline = now() + SHUTDOWN_LIMIT_MS;
  const told = registry.dispatch(shutdownEvent(reason, deadline));
  deps.log.debug(`SHUTDOWN (${reason}) to ${told.join(', ') || 'no extension'}`);
  // Done: every one told has exited, or asked for another event after it.
  const alive = () => procs.launched.filter((l) => told.includes(l.name) && !procs.exits.has(l.name));
  const done = () =>
    alive().every((l) => registry.list().find((v) => v.name === l.name)?.idle) ? true : undefined;
  await until(registry, done, deadline, now);
  procs.end();
}

function extensionHost(
  deps: ExtensionHostDeps,
  procs: { launched: LaunchedExtension[]; exits: Map<string, RuntimeExit>; end(): void },
  initDeadline: number,
): ExtensionHost {
  const { registry } = deps;
  const now = deps.now ?? Date.now;
  const wait: InitWait = { registry, exits: procs.exits, deadline: initDeadline, now };
  let initDone = false;
  let awaiting: string[] = [];
  return {
    names: procs.launched.map((l) => l.name),
    registered: async () => {
      if (!initDone) await initStep(wait, (v) => v.state !== 'launched', 'register');
    },
    async initialized() {
      if (!initDone) await initStep(wait, (v) => v.initialized, 'ask for its first event');
      initDone = true;
    },
    invoke(event) {
      registry.closeRegistration();
      awaiting = registry.dispatch(event);
    },
    settle() {
      const waitingFor = awaiting;
      awaiting = [];
      return settle(deps, waitingFor, now);
    },
    async shutdown(reason, beforeEvent) {
      await beforeEvent?.().catch(() => {});
      await shutdown(deps, procs, reason, now);
    },
    summary: () => summarize(registry),
  };
}

/** The registry's extensions as the run record lists them. */
export function summarize(registry: ExtensionRegistry): ExtensionSummary[] {
  return registry.list().map((v) => ({
    name: v.name,
    external: v.external,
    registered: v.id !== undefined,
    events: [...v.events],
    ...(v.errorType ? { errorType: v.errorType } : {}),
  }));
}

/** SIGKILL to every extension's group still there, then to every process carrying their mark. */
function endAll(
  launched: LaunchedExtension[],
  exits: Map<string, RuntimeExit>,
  mark: readonly [string, string],
  log: Logger,
): void {
  const left = launched.filter((l) => !exits.has(l.name));
  for (const l of launched) l.signal('SIGKILL');
  const marked = killMarked(mark[0], mark[1]);
  if (left.length > 0) log.debug(`killed extension(s) still running: ${left.map((l) => l.name).join(', ')}`);
  if (marked.length > 0)
    log.debug(`ended ${marked.length} process(es) of the extensions: ${marked.join(' ')}`);
}
