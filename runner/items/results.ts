// What an item leaves under the output prefix as it ends: its result, then its record; on failure its error part
// (<i>.error.json, the record's error), then its record. Records come last, as in a single run.
import { asRunnerError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ResultSlot } from '../payload/target.js';
import { buildRecord, errorPart, type RecordContext, type RunFacts } from '../record/build.js';
import { type WriteDeps, writePlace, writeRecord } from '../record/write.js';
import type { StoredResult } from '../runtime-api/invocation.js';
import type { Item } from './plan.js';

export interface ItemWriteDeps extends WriteDeps {
  record: RecordContext;
  now: () => number;
  log: Logger;
}

/** How an item ended, once its writes are done. */
export type ItemEnd = { index: number; ok: true } | { index: number; ok: false; error: unknown };

/** The error part and the record of a failed item; neither can fail the run (warnings only). */
export async function writeFailedItem(
  item: Item,
  facts: RunFacts,
  error: unknown,
  deps: ItemWriteDeps & { stopped?: boolean },
): Promise<ItemEnd> {
  const e = asRunnerError(error);
  deps.log.info(`item ${item.index} failed (exit ${e.exitCode}): ${e.name}`);
  const text = `${JSON.stringify(errorPart(error))}\n`;
  await writePlace(item.error, text, deps, 'error part').catch((err: Error) => {
    deps.log.warn(`the error part of item ${item.index} was not written (${err.message})`);
  });
  await writeRecord(
    item.record,
    () => buildRecord(facts, { ok: false, error }, deps.record, deps.now()),
    deps,
  );
  return { index: item.index, ok: false, error };
}

/** Commits a served item's result, then its record; a result that cannot be written fails the item. */
export async function writeSucceededItem(
  item: Item,
  slot: ResultSlot,
  facts: RunFacts,
  stored: StoredResult | undefined,
  resultUrl: string,
  deps: ItemWriteDeps & { signal?: AbortSignal },
): Promise<ItemEnd> {
  try {
    await slot.commit(stored ? { crc32: stored.crc32, ...(stored.body ? { body: stored.body } : {}) } : {});
  } catch (err) {
    return writeFailedItem(item, facts, err, { ...deps, stopped: deps.signal?.aborted ?? false });
  } finally {
    // A result kept in memory left no file to remove.
    if (!stored?.body) await slot.discard().catch(() => {});
  }
  if (stored) facts.result = { url: resultUrl, bytes: stored.bytes, sha256: stored.sha256 };
  deps.log.info(`item ${item.index} succeeded (${stored?.bytes ?? 0} bytes)`);
  await writeRecord(item.record, () => buildRecord(facts, { ok: true }, deps.record, deps.now()), deps);
  return { index: item.index, ok: true };
}
