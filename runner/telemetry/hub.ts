// The Telemetry API's and the Logs API's side of the run: subscriptions taken while init lasts ("Subscription occurs
// during the extension initialization phase"; after it, 403 `Telemetry.SubscriptionClosed` or `Logs.SubscriptionClosed`,
// as Lambda answers), one API per extension ("after subscribing using one of these APIs, any attempt to subscribe using
// the other API returns an error"), and every platform fact and line of output handed to the subscribers that asked
// for its type. What happened in init before an extension subscribed reaches it too, as Lambda's init events do.
import { categoryOf, logEvent, platformEvents, type TelemetryEvent } from './events.js';
import type { LogLine, PlatformFact, TelemetrySink } from './facts.js';
import { Subscriber } from './subscriber.js';
import { parseSubscription, type Subscription, type TelemetryApiKind } from './subscription.js';

/** What init keeps for extensions that subscribe later in it; past this, the oldest go. */
const INIT_BACKLOG_MAX = 10_000;

/** A subscription call's answer: its status and JSON body. */
export interface SubscribeAnswer {
  status: 200 | 400 | 403;
  body: unknown;
}

type Item = { fact: PlatformFact } | { line: LogLine };

export class TelemetryHub implements TelemetrySink {
  private readonly subscribers = new Map<string, Subscriber>();
  private open = true;
  private backlog: Item[] = [];
  private jsonLogs = false;

  /** The function's log format: with JSON, a function's log line is sent as the object it holds. */
  configure(opts: { jsonLogs: boolean }): void {
    this.jsonLogs = opts.jsonLogs;
  }

  get subscribed(): boolean {
    return this.subscribers.size > 0;
  }

  subscribe(api: TelemetryApiKind, name: string, text: string): SubscribeAnswer {
    if (!this.open) {
      return api === 'telemetry'
        ? {
            status: 403,
            body: {
              errorType: 'Telemetry.SubscriptionClosed',
              errorMessage: 'Telemetry API subscription is closed',
            },
          }
        : {
            status: 403,
            body: {
              errorType: 'Logs.SubscriptionClosed',
              errorMessage: 'Logs API subscription is closed already',
            },
          };
    }
    const sub = parseSubscription(api, text);
    if ('status' in sub)
      return { status: 400, body: { errorType: sub.errorType, errorMessage: sub.message } };
    const known = this.subscribers.get(name);
    if (known && known.sub.api !== api) {
      const errorType = api === 'telemetry' ? 'ValidationError' : 'Logs.ValidationError';
      const other = known.sub.api === 'telemetry' ? 'Telemetry' : 'Logs';
      const errorMessage = `extension ${name} subscribed through the ${other} API already: an extension subscribes through one of the Telemetry and Logs APIs`;
      return { status: 400, body: { errorType, errorMessage } };
    }
    if (known) known.sub = sub;
    else this.add(name, sub);
    this.platform({
      type: 'subscription',
      at: Date.now(),
      api,
      name,
      state: known ? 'Already subscribed' : 'Subscribed',
      types: [...sub.types],
    });
    return { status: 200, body: 'OK' };
  }

  private add(name: string, sub: Subscription): void {
    let dropped = { records: 0, bytes: 0, reason: '', scheduled: false };
    const subscriber = new Subscriber(name, sub, {
      dropped: (records, bytes, reason) => {
        dropped = {
          records: dropped.records + records,
          bytes: dropped.bytes + bytes,
          reason,
          scheduled: dropped.scheduled,
        };
        if (dropped.scheduled) return;
        dropped.scheduled = true;
        setImmediate(() => {
          const fact: PlatformFact = {
            type: 'logsDropped',
            at: Date.now(),
            droppedRecords: dropped.records,
            droppedBytes: dropped.bytes,
            reason: dropped.reason,
          };
          dropped = { records: 0, bytes: 0, reason: '', scheduled: false };
          if (subscriber.sub.types.has('platform'))
            for (const e of platformEvents(fact, subscriber.sub)) subscriber.push(JSON.stringify(e), true);
        });
      },
    });
    this.subscribers.set(name, subscriber);
    for (const item of this.backlog) this.offer(subscriber, item);
  }

  platform(fact: PlatformFact): void {
    this.take({ fact });
  }

  log(line: LogLine): void {
    this.take({ line });
  }

  /** Init is over: no more subscriptions, and nothing more is kept for late subscribers. */
  initEnded(): void {
    this.open = false;
    this.backlog = [];
  }

  /** Sends everything waiting and resolves once it has been delivered (or dropped), or after `ms`. */
  async flush(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    });
    await Promise.race([Promise.all([...this.subscribers.values()].map((s) => s.flush())), late]);
    clearTimeout(timer);
  }

  close(): void {
    for (const s of this.subscribers.values()) s.close();
    this.subscribers.clear();
    this.backlog = [];
  }

  private take(item: Item): void {
    if (this.open) {
      this.backlog.push(item);
      if (this.backlog.length > INIT_BACKLOG_MAX) this.backlog.shift();
    }
    for (const s of this.subscribers.values()) this.offer(s, item);
  }

  private offer(s: Subscriber, item: Item): void {
    const events: TelemetryEvent[] =
      'fact' in item ? platformEvents(item.fact, s.sub) : [logEvent(item.line, this.jsonLogs)];
    for (const e of events) if (s.sub.types.has(categoryOf(e.type))) s.push(JSON.stringify(e));
  }
}
