// One subscriber's buffer: events wait until `timeoutMs` has passed since the first of them, or until `maxItems` or
// `maxBytes` are reached, then go as one batch; one batch is under way at a time, and what arrives meanwhile waits for
// the next ("Configuring memory usage and buffering"). A subscriber that falls behind loses events, counted and
// reported to it as `platform.logsDropped` as Lambda does.
import { deliver } from './delivery.js';
import type { Subscription } from './subscription.js';

/** How much may wait behind a batch under way before new events are dropped: Lambda's "2 * maxBytes" bound. */
const BACKLOG_FACTOR = 2;

export interface SubscriberDeps {
  /** Sends one batch; the default is delivery.ts's. */
  send?: (events: readonly string[]) => Promise<void>;
  /** Told when events were dropped (a batch that could not be delivered, or a backlog over its bound). */
  dropped(count: number, bytes: number, reason: string): void;
}

export class Subscriber {
  /** Events waiting; `always` marks the platform's own reports of dropped events (never reported dropped again). */
  private pending: { text: string; always: boolean }[] = [];
  private closed = false;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private readonly send: (events: readonly string[]) => Promise<void>;

  constructor(
    readonly name: string,
    public sub: Subscription,
    private readonly deps: SubscriberDeps,
  ) {
    this.send = deps.send ?? ((events) => deliver(this.sub.destination, events));
  }

  /** Adds an event; `always` for the platform's own report of dropped events, which is never dropped itself. */
  push(event: string, always = false): void {
    if (this.closed) return;
    const size = Buffer.byteLength(event);
    const { maxItems, maxBytes } = this.sub.buffering;
    const over =
      this.pending.length >= maxItems * BACKLOG_FACTOR || this.bytes + size > maxBytes * BACKLOG_FACTOR;
    if (over && !always) {
      this.deps.dropped(
        1,
        size,
        'Consumer seems to have fallen behind as it has not acknowledged receipt of logs.',
      );
      return;
    }
    this.pending.push({ text: event, always });
    this.bytes += size;
    if (this.pending.length >= maxItems || this.bytes >= maxBytes) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.sub.buffering.timeoutMs);
  }

  /** Sends what waits now, and resolves when every batch so far has been delivered (or dropped). */
  async flush(): Promise<void> {
    while (this.sending || this.pending.length > 0) {
      this.kick();
      await this.sending;
    }
  }

  /** Nothing more is sent; what waits is dropped. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.bytes = 0;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.pending.length === 0 || this.closed) return;
    const { maxItems, maxBytes } = this.sub.buffering;
    // One batch takes up to maxItems events and up to maxBytes (at least one event, however large).
    let n = 0;
    let size = 0;
    const sizeOf = (i: number) => Buffer.byteLength(this.pending[i]?.text ?? '');
    while (n < this.pending.length && n < maxItems && (n === 0 || size + sizeOf(n) <= maxBytes)) {
      size += sizeOf(n);
      n += 1;
    }
    const batch = this.pending.splice(0, n);
    this.bytes -= size;
    // Only ordinary events are reported as dropped: a report that cannot be delivered is not reported in turn.
    const ordinary = batch.filter((e) => !e.always).length;
    this.sending = this.send(batch.map((e) => e.text))
      .catch((err: unknown) => {
        if (ordinary > 0)
          this.deps.dropped(ordinary, size, `could not send events: ${(err as Error).message}`);
      })
      .finally(() => {
        this.sending = undefined;
        if (this.pending.length >= maxItems || this.bytes >= maxBytes) this.kick();
        else if (this.pending.length > 0)
          this.timer ??= setTimeout(() => this.kick(), this.sub.buffering.timeoutMs);
      });
  }
}
