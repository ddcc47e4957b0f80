// One run, in order: read the URLs, fetch the payload while the function is prepared, invoke once, commit the result,
// then the run record (on failure too, once the output is known to be valid).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkTimeouts } from '../lib/aws-config.js';
import { isLocalRef } from './local.js';
import type { RunOptions } from './options.js';
import { openDigested, type PayloadDigest } from './payload/digest.js';
import { fetchPayload, parsePayloadUrl } from './payload/source.js';
import { checkNotTheInput, defaultOutputUrl, parseOutputUrl, prepareResultSlot } from './payload/target.js';
import { type Prepared, prepareFunction, runtimeFor } from './prepare.js';
import { buildRecord, type RunFacts, recordUrlOf } from './record/build.js';
import { parseRecordUrl, recordPlace } from './record/place.js';
import { type RecordPlace, writeRecord } from './record/write.js';
import type { RunDeps, RunResult } from './run-deps.js';
import { invocationHeaders } from './runtime/invocation-headers.js';
import { listenRuntimeApi, type Serving, serveOn } from './runtime/invoke.js';
import type { RuntimeApi } from './runtime-api/server.js';
import { abortable, asStopped, settledWithin } from './stop.js';

/** How long a stopped run waits for the aborted preparation to clean up after itself. */
const PREPARE_STOP_GRACE_MS = 2000;

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
  const local = isLocalRef(opts.functionRef, deps.cwd);
  const timeouts = networkTimeouts(opts.networkTimeoutSeconds);
  const workDir = await mkdtemp(join(tmpdir(), 'run-lambda-'));
  const writeDeps = { workDir, log, env, timeouts };
  // Known once the output is found able to take a result: from then on every ending leaves a record.
  let place: RecordPlace | undefined;
  let cleanupRemote: (() => Promise<void>) | undefined;
  let discard: (() => Promise<void>) | undefined;
  let preparing: Promise<void> | undefined;
  let api: RuntimeApi | undefined;
  let serving: Serving | undefined;
  let digest: () => PayloadDigest | undefined = () => undefined;
  const record = (end: { ok: true } | { ok: false; error: unknown }, stopped = false) => {
    if (!place) return Promise.resolve(false);
    facts.payload = { url: recordUrlOf(source), digest: digest() };
    return writeRecord(place, () => buildRecord(facts, end, deps.record, now()), { ...writeDeps, stopped });
  };
  try {
    const payload = fetchPayload(source, { workDir, stdin: deps.stdin, log, env, signal, timeouts });
    digest = () => payload.digest;
    // Awaited later (by the Runtime API's `next`); a failure before then must not be an unhandled rejection.
    payload.ready.catch(() => {});
    // An external runtime may be starting beside the runner already: it finds the address listening at once.
    if (opts.externalRuntime) api = await listenRuntimeApi(opts.externalRuntime, log);
    const slot = await log.step('check the output', () =>
      prepareResultSlot(target, { ...deps, workDir, timeouts }),
    );
    discard = slot.discard;
    place = recordPlace(target, slot.recordBeside, explicit, source, log);
    const prepared = log.step('prepare the function', () =>
      prepareFunction(opts, deps, workDir, local, timeouts, (d) => {
        facts.described = d;
      }),
    );
    // Set however the run ends, so a stopped run still removes a folder prepared after the stop.
    preparing = prepared.then((f: Prepared) => {
      cleanupRemote = f.cleanup;
    }, noop);
    const fn = await abortable(prepared, signal);
    facts.fn = fn;
    const headers = invocationHeaders(fn, opts);
    const runtime = await runtimeFor(fn, opts, deps, workDir, local);
    facts.prepared = now();
    api ??= await listenRuntimeApi(undefined, log);
    serving = serveOn(api, {
      fn,
      runtime,
      compat: opts.compat,
      env,
      spawn: deps.spawn,
      log,
      signal,
      now,
      job: deps.job,
      memoryEvents: opts.memoryEvents,
    });
    const session = serving.session;
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
    await serving.close();
    const stored = served.stored;
    const where = await abortable(
      log.step('write the result', () => slot.commit(stored ? { crc32: stored.crc32 } : {})),
      signal,
    );
    discard = undefined;
    log.info(`result (${served.bytes} bytes) written to ${where}`);
    if (stored) facts.result = { url: recordUrlOf(target), bytes: stored.bytes, sha256: stored.sha256 };
    await record({ ok: true });
    return { where, bytes: served.bytes };
  } catch (err) {
    const error = asStopped(err, signal, log);
    await serving?.close().catch(noop);
    await record({ ok: false, error }, signal?.aborted ?? false);
    throw error;
  } finally {
    await serving?.close().catch(noop);
    await api?.close().catch(noop);
    // A stop rejects at once; the aborted downloads still remove their temp files and cache locks first.
    if (preparing) await settledWithin(preparing, PREPARE_STOP_GRACE_MS);
    await discard?.().catch(noop);
    await cleanupRemote?.().catch(noop);
    await rm(workDir, { recursive: true, force: true }).catch(noop);
  }
}
