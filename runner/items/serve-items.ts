// The items of a child, one after another on one runtime, with their I/O around them: the next items' payloads are
// fetched while one runs, and each finished item's writes (result, then record) go on while the next ones run. A
// failure that ends the child (exit 4, 3, a stop) ends it after the item it was seen on.
import { asRunnerError, ExitCode, JobTimeoutError, StoppedBySignalError } from '../errors.js';
import type { RunOptions } from '../options.js';
import { openDigested } from '../payload/digest.js';
import { prepareResultSlot, type SlotDeps } from '../payload/target.js';
import { type RunFacts, recordUrlOf } from '../record/build.js';
import { type JobClock, jobOverMessage } from '../runtime/deadline.js';
import type { InvocationHeaders } from '../runtime/invocation-headers.js';
import type { Session } from '../runtime/session.js';
import { asStopped, stoppedBy } from '../stop.js';
import { type FetchDeps, type Fetched, fetchItem, ITEM_IN_MEMORY_BYTES } from './fetch.js';
import type { Item } from './plan.js';
import { type ItemEnd, type ItemWriteDeps, writeFailedItem, writeSucceededItem } from './results.js';

/**
 * Payloads fetched ahead of the item being run, and finished items whose writes may still be under way: on S3, each
 * request is a round trip (~15–30 ms) the runtime need not wait for. Both bound the disk and memory a child uses.
 */
export const FETCH_AHEAD = 2;
export const WRITES_IN_FLIGHT = 4;

/**
 * Ends the whole child rather than one item: a transient I/O failure, a function that cannot be had, a stop, the
 * job's time running out.
 */
export function endsTheChild(err: unknown): boolean {
  const code = asRunnerError(err).exitCode;
  if (err instanceof StoppedBySignalError || err instanceof JobTimeoutError) return true;
  return code === ExitCode.payload || code === ExitCode.prepare;
}

/** What ends the child before its next item: a stop signal, or the job's time spent (that item is left unwritten). */
function stopBefore(signal: AbortSignal | undefined, job: JobClock | undefined, now: number): unknown {
  if (signal?.aborted) return stoppedBy(signal);
  if (job && now >= job.endMs) return new JobTimeoutError(jobOverMessage(job, false));
  return undefined;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

export interface ServeItemsDeps {
  session: Session;
  opts: RunOptions;
  io: FetchDeps & SlotDeps;
  writes: ItemWriteDeps;
  headers: InvocationHeaders;
  /** What every item's record shares: the child's start, the prepared function. */
  base: RunFacts;
  /** The job's budget: once it is spent, the items left are not started (nothing written for them). */
  job?: JobClock;
}

/** Runs `items` in order; resolves with how each ended and, if one ended the child, that error. */
export async function serveItems(
  items: Item[],
  deps: ServeItemsDeps,
): Promise<{ ends: ItemEnd[]; stop: unknown }> {
  const { io, writes, base } = deps;
  const { log, signal } = io;
  const ends: ItemEnd[] = [];
  let stop: unknown;
  const record = (end: ItemEnd) => {
    ends.push(end);
    if (stop === undefined && !end.ok && endsTheChild(end.error)) stop = end.error;
  };
  const ahead = fetchAhead(items, io, !deps.opts.firstAttempt);
  const writing = writesInFlight(record);
  for (let x = 0; x < items.length && stop === undefined; x++) {
    const item = items[x] as Item;
    const got = await ahead.next();
    stop = stopBefore(signal, deps.job, writes.now());
    if (stop !== undefined) {
      if (got.ok && got.value.kind === 'ready') await got.value.remove();
      break;
    }
    const facts: RunFacts = { ...base, payload: { url: recordUrlOf(item.source) } };
    if (!got.ok) {
      record(await failedItem(item, facts, got.error, deps));
      continue;
    }
    if (got.value.kind === 'done') {
      log.info(`item ${item.index}: its result and record are there already (an earlier attempt); skipped`);
      record({ index: item.index, ok: true });
      continue;
    }
    await serveItem(item, got.value, facts, deps, { record, writing });
  }
  await writing.drain();
  // Fetched for items the child will not run now (it stopped): their files go.
  await ahead.drop();
  ends.sort((a, b) => a.index - b.index);
  return { ends, stop };
}

type Ready = Extract<Fetched, { kind: 'ready' }>;

/**
 * Serves one item whose event is on disk. Once it is served, its writes (result, then record) go on while the next
 * items run; a failure is written at once.
 */
async function serveItem(
  item: Item,
  { payload, remove }: Ready,
  facts: RunFacts,
  deps: ServeItemsDeps,
  ending: { record: (end: ItemEnd) => void; writing: WritesInFlight },
): Promise<void> {
  const { session, io, writes } = deps;
  const slot = await prepareResultSlot(item.result, {
    ...io,
    resultName: `item-${item.index}.out.json`,
    inMemoryUpTo: ITEM_IN_MEMORY_BYTES,
  });
  try {
    const served = await session
      .serve({
        openEvent: () => openDigested(payload),
        resultPath: slot.resultPath,
        ...(slot.inMemoryUpTo === undefined ? {} : { resultInMemoryUpTo: slot.inMemoryUpTo }),
        timeoutSeconds: deps.opts.timeoutSeconds,
        headers: deps.headers,
      })
      .finally(() => {
        facts.requestId = session.lastRequestId();
        facts.initialized = session.initializedAt();
        facts.payload = { url: recordUrlOf(item.source), digest: payload.digest };
      });
    const url = recordUrlOf(item.result);
    const written = writeSucceededItem(item, slot, facts, served.stored, url, {
      ...writes,
      signal: io.signal,
    });
    await ending.writing.add(written);
  } catch (err) {
    await slot.discard().catch(() => {});
    ending.record(await failedItem(item, facts, err, deps));
  } finally {
    await remove().catch(() => {});
  }
}

/** A failed item's error part and record; after a stop, whatever failed failed because of it. */
function failedItem(item: Item, facts: RunFacts, err: unknown, deps: ServeItemsDeps): Promise<ItemEnd> {
  const { signal, log } = deps.io;
  const stopped = signal?.aborted ?? false;
  return writeFailedItem(item, facts, asStopped(err, signal, log), { ...deps.writes, stopped });
}

/** The payloads of the next items, fetched (FETCH_AHEAD at most) while one runs. */
function fetchAhead(items: Item[], io: FetchDeps, look: boolean) {
  const ahead: Promise<Settled<Fetched>>[] = [];
  let fetched = 0;
  const more = () => {
    while (ahead.length < FETCH_AHEAD && fetched < items.length) {
      ahead.push(settle(fetchItem(items[fetched++] as Item, io, look)));
    }
  };
  return {
    /** The next item's fetch, as it settled. */
    async next(): Promise<Settled<Fetched>> {
      more();
      const got = (await ahead.shift()) as Settled<Fetched>;
      more();
      return got;
    },
    /** Removes what was fetched for items that will not run now. */
    async drop(): Promise<void> {
      for (const a of ahead.splice(0)) {
        const left = await a;
        if (left.ok && left.value.kind === 'ready') await left.value.remove();
      }
    },
  };
}

interface WritesInFlight {
  /** Adds an item's writes; waits while WRITES_IN_FLIGHT are under way, recording those that end. */
  add(write: Promise<ItemEnd>): Promise<void>;
  /** Waits for every write, recording each. */
  drain(): Promise<void>;
}

function writesInFlight(record: (end: ItemEnd) => void): WritesInFlight {
  const inFlight: Promise<ItemEnd>[] = [];
  return {
    async add(write) {
      inFlight.push(write);
      while (inFlight.length >= WRITES_IN_FLIGHT) record(await (inFlight.shift() as Promise<ItemEnd>));
    },
    async drain() {
      for (const w of inFlight.splice(0)) record(await w);
    },
  };
}
