// Many calls with a bound on how many are in flight (the writes of an item set's items, the reads of its records,
// the records of an SQS batch, the files of the runner's layers): one worker loop, and the ways its callers take a
// failure.

/** Runs `work(i)` for i in [0, count), at most `limit` at a time, in order; stops starting new ones once one says so. */
async function runBounded(
  count: number,
  limit: number,
  work: (i: number) => Promise<'next' | 'stop'>,
): Promise<void> {
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < count) if ((await work(next++)) === 'stop') stopped = true;
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), count) }, worker));
}

/**
 * Calls `fn` on every item, at most `limit` at a time, and settles each in input order (the shape
 * @middy/sqs-partial-batch-failure reads): one failure stops nothing. `fn` may throw synchronously, which settles as a
 * rejection.
 */
export async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  await runBounded(items.length, limit, async (i) => {
    try {
      results[i] = { status: 'fulfilled', value: await fn(items[i]!, i) };
    } catch (reason) {
      results[i] = { status: 'rejected', reason };
    }
    return 'next';
  });
  return results;
}

/**
 * Calls `fn` on every item, at most `limit` at a time, for calls that stand or fall together: after the first
 * failure no further item starts, those in flight finish, and that first failure is thrown. Otherwise the results,
 * in input order.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let failed: { error: unknown } | undefined;
  await runBounded(items.length, limit, async (i) => {
    try {
      results[i] = await fn(items[i]!, i);
      return 'next';
    } catch (error) {
      failed ??= { error };
      return 'stop';
    }
  });
  if (failed) throw failed.error;
  return results;
}

/**
 * Calls `fn` on every item at once, for calls that stand or fall together and can be stopped (the downloads of a
 * function's code and layers): the first failure aborts the signal every call was given, each call settles (nothing
 * is still writing when the caller cleans up), and that first failure is thrown. `outer` aborting aborts them all.
 */
export async function mapAbortable<T, R>(
  items: readonly T[],
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  outer?: AbortSignal,
): Promise<R[]> {
  const controller = new AbortController();
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  try {
    return await mapBounded(items, items.length, (item) =>
      fn(item, controller.signal).catch((err: unknown) => {
        controller.abort();
        throw err;
      }),
    );
  } finally {
    outer?.removeEventListener('abort', forward);
  }
}
