// Many calls with a bound on how many are in flight (the writes of an item set's items, the reads of its records,
// the records of an SQS batch): one worker loop, and the two ways its callers take a failure.

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
