// One run, in order: read the URLs, fetch the payload while the function is prepared, invoke once, commit the result,
// then the run record (on failure too, once the output is known to be valid).
import type { RunOptions } from './options.js';
import { openDigested, type PayloadDigest } from './payload/digest.js';
import { fetchPayload, parsePayloadUrl } from './payload/source.js';
import {
  checkNotTheInput,
  defaultOutputUrl,
  type OutputTarget,
  parseOutputUrl,
  prepareResultSlot,
  type ResultSlot,
} from './payload/target.js';
import { buildRecord, type RunFacts, recordUrlOf } from './record/build.js';
import { parseRecordUrl, recordPlace } from './record/place.js';
import { type RecordPlace, writeRecord } from './record/write.js';
import type { RunDeps, RunResult } from './run-deps.js';
import type { Served } from './runtime/session.js';
import { openServing } from './serve.js';
import { abortable, asStopped } from './stop.js';

const noop = () => {};

export async function runSingle(opts: RunOptions, deps: RunDeps): Promise<RunResult> {
  const { log, env, signal } = deps;
  const now = deps.now ?? Date.now;
  const facts: RunFacts = { started: now() };
  const outputUrl = opts.outputUrl ?? defaultOutputUrl(opts.payloadUrl);
  const source = parsePayloadUrl(opts.payloadUrl, deps.cwd);
  const target = parseOutputUrl(outputUrl, deps.cwd);
  const explicit = opts.recordUrl === undefined ? undefined : parseRecordUrl(opts.recordUrl, deps.cwd);
  await checkNotTheInput(source, target);
  const serving = await openServing(opts, deps);
  const { workDir, timeouts } = serving;
  // Known once the output is found able to take a result: from then on every ending leaves a record.
  let place: RecordPlace | undefined;
  let discard: (() => Promise<void>) | undefined;
  let digest: () => PayloadDigest | undefined = () => undefined;
  const record = (end: { ok: true } | { ok: false; error: unknown }, stopped = false) => {
    if (!place) return Promise.resolve(false);
    facts.payload = { url: recordUrlOf(source), digest: digest() };
    facts.extensions = serving.extensions();
    const writeDeps = { workDir, log, env, timeouts, stopped };
    return writeRecord(place, () => buildRecord(facts, end, deps.record, now()), writeDeps);
  };
  try {
    const payload = fetchPayload(source, { workDir, stdin: deps.stdin, log, env, signal, timeouts });
    digest = () => payload.digest;
    // Awaited later (by the Runtime API's `next`); a failure before then must not be an unhandled rejection.
    payload.ready.catch(() => {});
    const slot = await log.step('check the output', () =>
      prepareResultSlot(target, { ...deps, workDir, timeouts }),
    );
    discard = slot.discard;
    place = recordPlace(target, slot.recordBeside, explicit, source, log);
    const { headers, session } = await serving.prepare(facts);
    const served = await log
      .step('invoke', () =>
        session.serve({
          openEvent: () => openDigested(payload),
          resultPath: slot.resultPath,
          timeoutSeconds: opts.timeoutSeconds,
          headers,
          failure: payload.ready,
        }),
      )
      .finally(() => {
        facts.requestId = session.lastRequestId();
        facts.initialized = session.initializedAt();
      });
    await serving.endRuntime();
    const where = await writeResult(slot, served, target, facts, deps);
    discard = undefined;
    await record({ ok: true });
    return { where, bytes: served.bytes };
  } catch (err) {
    const error = asStopped(err, signal, log);
    await serving.endRuntime().catch(noop);
    await record({ ok: false, error }, signal?.aborted ?? false);
    throw error;
  } finally {
    await discard?.().catch(noop);
    await serving.close();
  }
}

/** Commits the served result to its target; the record's `result` learns what was stored. */
async function writeResult(
  slot: ResultSlot,
  served: Served,
  target: OutputTarget,
  facts: RunFacts,
  deps: RunDeps,
): Promise<string> {
  const stored = served.stored;
  const where = await abortable(
    deps.log.step('write the result', () => slot.commit(stored ? { crc32: stored.crc32 } : {})),
    deps.signal,
  );
  deps.log.info(`result (${served.bytes} bytes) written to ${where}`);
  if (stored) facts.result = { url: recordUrlOf(target), bytes: stored.bytes, sha256: stored.sha256 };
  return where;
}
