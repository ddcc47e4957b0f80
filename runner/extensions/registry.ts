// The Extensions API's state, as Lambda keeps it (Extensions API reference; its status codes, error types and messages
// are the Runtime Interface Emulator's, AWS's own implementation): who registered, for which events, who waits on
// `/event/next`, and the events queued for each. External extensions are the executables the runner started (known by
// name before they register); any other name registers an internal one, which lives in the runtime process and may not
// take SHUTDOWN. The endpoint handlers and the run's extension host (host.ts) drive it; it does no I/O itself.
import { randomUUID } from 'node:crypto';
import { type ExtensionEvent, ExtensionEventType, MAX_EXTENSIONS } from './events.js';

/** Why a call is refused: Lambda answers 403 with `{errorType, errorMessage}` for every Extensions API refusal. */
export interface ExtensionRefusal {
  status: 403;
  errorType: string;
  message: string;
}

/** What the register answer tells (plus `accountId` with the `accountId` feature). */
export interface FunctionMetadata {
  functionName: string;
  functionVersion: string;
  handler: string;
  accountId: string;
}

export type ExtensionState = 'launched' | 'registered' | 'ready' | 'failed' | 'exited';

/** One extension as the registry sees it. */
export interface ExtensionView {
  readonly name: string;
  readonly external: boolean;
  readonly id: string | undefined;
  readonly state: ExtensionState;
  readonly events: readonly ExtensionEventType[];
  /** Waiting in `next` with nothing queued: done with every event it was given. */
  readonly idle: boolean;
  /** It asked for its next event at least once (its init is done). */
  readonly initialized: boolean;
  /** The type it reported with init/error or exit/error, and the message of the body it posted with it. */
  readonly errorType: string | undefined;
  readonly errorMessage: string | undefined;
  readonly delivered: number;
}

class Extension implements ExtensionView {
  id: string | undefined;
  state: ExtensionState;
  events: ExtensionEventType[] = [];
  initialized = false;
  errorType: string | undefined;
  errorMessage: string | undefined;
  delivered = 0;
  readonly queue: ExtensionEvent[] = [];
  waiter: ((e: ExtensionEvent | undefined) => void) | undefined;
  constructor(
    readonly name: string,
    readonly external: boolean,
  ) {
    this.state = external ? 'launched' : 'registered';
  }
  get idle(): boolean {
    return this.waiter !== undefined && this.queue.length === 0;
  }
}

const refuse = (errorType: string, message: string): ExtensionRefusal => ({
  status: 403,
  errorType,
  message,
});

export function isRefusal(x: unknown): x is ExtensionRefusal {
  return typeof x === 'object' && x !== null && (x as { status?: unknown }).status === 403;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The register body: `{"events": [...]}`. A refusal (InvalidRequestFormat) when it is not that. */
export function parseRegisterBody(text: string): string[] | ExtensionRefusal {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return refuse('InvalidRequestFormat', (err as Error).message);
  }
  if (body === null) return [];
  if (typeof body !== 'object' || Array.isArray(body))
    return refuse('InvalidRequestFormat', 'the body must be a JSON object');
  const { events, configurationKeys } = body as { events?: unknown; configurationKeys?: unknown };
  if (Array.isArray(configurationKeys) && configurationKeys.length > 0)
    return refuse(
      'InvalidRequestFormat',
      'configurationKeys are deprecated; use environment variables instead',
    );
  if (events === undefined || events === null) return [];
  if (!Array.isArray(events) || events.some((e) => typeof e !== 'string'))
    return refuse('InvalidRequestFormat', 'events must be an array of strings');
  return events as string[];
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export class ExtensionRegistry {
  private readonly byId = new Map<string, Extension>();
  private readonly byName = new Map<string, Extension>();
  private open = true;
  private meta: FunctionMetadata | undefined;
  private signal = deferred();

  /** The external extensions the runner started, by the file name each must register with. */
  expect(names: readonly string[]): void {
    for (const name of names) this.byName.set(name, new Extension(name, true));
    this.changed();
  }

  describeFunction(meta: FunctionMetadata): void {
    this.meta = meta;
  }

  /** Resolves at the next change of any extension's state (a registration, a `next`, an error, an exit). */
  whenChanged(): Promise<void> {
    return this.signal.promise;
  }

  list(): ExtensionView[] {
    return [...this.byName.values()];
  }

  /** Registration ends with init (Lambda answers Extension.RegistrationClosed after). */
  closeRegistration(): void {
    this.open = false;
  }

  register(name: string, events: string[], features: string | undefined) {
    if (!name) return refuse('Extension.InvalidExtensionName', 'Empty extension name');
    const known = this.byName.get(name);
    const external = known?.external ?? false;
    for (const e of events) {
      const problem =
        e === ExtensionEventType.invoke || (e === ExtensionEventType.shutdown && external)
          ? undefined
          : e === ExtensionEventType.shutdown
            ? 'ShutdownEventNotSupportedForInternalExtension'
            : 'ErrorInvalidEventType';
      if (problem) return refuse('Extension.InvalidEventType', `${e}: ${problem}`);
    }
    if (!this.open) return refuse('Extension.RegistrationClosed', 'Extension registration closed already');
    let ext = known;
    if (ext && ext.state !== 'launched') {
      const why = ext.external ? 'already registered' : 'Extension with this name already registered';
      return refuse(
        'Extension.InvalidExtensionState',
        ext.external
          ? `State transition from ${ext.state} to registered failed for extension ${name}. Error: ${why}`
          : why,
      );
    }
    if (!ext) {
      if (this.byName.size >= MAX_EXTENSIONS)
        return refuse('Extension.TooManyExtensions', `Extension limit (${MAX_EXTENSIONS}) reached`);
      ext = new Extension(name, false);
      this.byName.set(name, ext);
    }
    ext.id = randomUUID();
    ext.state = 'registered';
    ext.events = [...new Set(events as ExtensionEventType[])];
    this.byId.set(ext.id, ext);
    this.changed();
    return { id: ext.id, answer: this.answer(features) };
  }

  private answer(features: string | undefined): Record<string, string> {
    const meta = this.meta ?? { functionName: '', functionVersion: '', handler: '', accountId: '' };
    const wantsAccount = (features ?? '').split(',').some((f) => f.trim() === 'accountId');
    return {
      functionName: meta.functionName,
      functionVersion: meta.functionVersion,
      handler: meta.handler,
      ...(wantsAccount ? { accountId: meta.accountId } : {}),
    };
  }

  /** The extension a `Lambda-Extension-Identifier` names, or the refusal for a missing, malformed or unknown one. */
  lookup(id: string | undefined): ExtensionView | ExtensionRefusal {
    if (!id)
      return refuse('Extension.MissingExtensionIdentifier', 'Missing Lambda-Extension-Identifier header');
    if (!UUID.test(id))
      return refuse('Extension.InvalidExtensionIdentifier', 'Invalid Lambda-Extension-Identifier');
    return this.byId.get(id) ?? refuse('Extension.UnknownExtensionIdentifier', `Unknown extension ${id}`);
  }

  /** A `next`: the extension's next event (at once when one is queued), or undefined when it can have none. */
  next(
    view: ExtensionView,
  ): { event: Promise<ExtensionEvent | undefined>; cancel(): void } | ExtensionRefusal {
    const ext = view as Extension;
    if (ext.state !== 'registered' && ext.state !== 'ready')
      return refuse(
        'Extension.InvalidExtensionState',
        `Extension ${ext.name} is ${ext.state}: no event will follow`,
      );
    if (ext.waiter)
      return refuse('Extension.InvalidExtensionState', `Extension ${ext.name} is already waiting`);
    ext.state = 'ready';
    ext.initialized = true;
    const event = new Promise<ExtensionEvent | undefined>((resolve) => {
      ext.waiter = resolve;
    });
    this.deliver(ext);
    this.changed();
    return {
      event,
      cancel: () => {
        if (!ext.waiter) return;
        ext.waiter(undefined);
        ext.waiter = undefined;
        this.changed();
      },
    };
  }

  /** init/error (allowed while init lasts) or exit/error: the extension is failed; no further call succeeds. */
  reportError(
    view: ExtensionView,
    kind: 'init' | 'exit',
    report: { errorType: string; errorMessage?: string },
  ): ExtensionRefusal | undefined {
    const ext = view as Extension;
    const endState = kind === 'init' ? 'InitError' : 'ExitError';
    if (ext.state === 'failed' || ext.state === 'exited' || (kind === 'init' && !this.open))
      return refuse(
        'Extension.InvalidExtensionState',
        `State transition from ${ext.state} to ${endState} failed for extension ${ext.id}. Error: ${kind === 'init' ? 'init is over' : 'the extension is gone'}`,
      );
    ext.state = 'failed';
    ext.errorType = report.errorType;
    ext.errorMessage = report.errorMessage;
    ext.waiter?.(undefined);
    ext.waiter = undefined;
    this.changed();
    return undefined;
  }

  /** An external extension's process ended. */
  exited(name: string): void {
    const ext = this.byName.get(name);
    if (!ext || ext.state === 'exited') return;
    if (ext.state !== 'failed') ext.state = 'exited';
    ext.waiter?.(undefined);
    ext.waiter = undefined;
    this.changed();
  }

  /** Queues `event` for every live extension subscribed to its type; returns their names. */
  dispatch(event: ExtensionEvent): string[] {
    const to: string[] = [];
    for (const ext of this.byName.values()) {
      if (!ext.events.includes(event.eventType)) continue;
      if (ext.state !== 'registered' && ext.state !== 'ready') continue;
      ext.queue.push(event);
      to.push(ext.name);
      this.deliver(ext);
    }
    this.changed();
    return to;
  }

  private deliver(ext: Extension): void {
    const waiter = ext.waiter;
    const event = ext.queue[0];
    if (!waiter || !event) return;
    ext.queue.shift();
    ext.waiter = undefined;
    ext.delivered += 1;
    waiter(event);
  }

  private changed(): void {
    const s = this.signal;
    this.signal = deferred();
    s.resolve();
  }
}
