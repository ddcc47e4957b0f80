// POST /runtime/invocation/{id}/response: streams the result to disk (never parsed; a small one the invocation allows
// stays in memory), then 202. In streaming mode (`Lambda-Runtime-Function-Response-Mode: streaming`) the body is
// chunked and may end in error trailers.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { isRefusal } from './lifecycle.js';
import { parseErrorBody } from './read-error-body.js';
import { ApiErrorType, sendAccepted, sendError } from './render.js';
import { declaredOver, headerValue, type RouteContext, sendRefusal } from './state.js';

/** Room for the disk to lag behind the socket, so the runtime's upload is not paused after every chunk. */
const WRITE_BUFFER = 4 * 1024 * 1024;

class TooLargeError extends Error {
  override name = 'TooLargeError';
}

/** Lambda's words for a result over the limit; the invocation fails with them. */
const tooLarge = (limit: number) => ({
  kind: 'error' as const,
  errorType: 'Function.ResponseSizeTooLarge',
  errorMessage: `Response payload size exceeded maximum allowed payload size (${limit} bytes).`,
});

/** The error a streamed response reported in its trailers, if any. */
function trailerError(trailers: NodeJS.Dict<string>) {
  const type = headerValue(trailers['lambda-runtime-function-error-type']);
  const body = headerValue(trailers['lambda-runtime-function-error-body']);
  if (type === undefined && body === undefined) return undefined;
  const text = body === undefined ? '' : Buffer.from(body, 'base64').toString('utf8');
  return parseErrorBody(text || '{}', type);
}

/** Whether the response may stay in memory: it declares its length, within the invocation's `resultInMemoryUpTo`. */
function keepsInMemory(ctx: RouteContext, upTo: number | undefined, streamed: boolean): boolean {
  const declared = Number(ctx.req.headers['content-length'] ?? Number.NaN);
  return upTo !== undefined && !streamed && Number.isFinite(declared) && declared <= upTo;
}

/** A sink that keeps what it is given; `body()` is all of it, once the pipeline has ended. */
function inMemory(): { sink: Writable; body(): Buffer } {
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      size += chunk.length;
      done();
    },
  });
  return { sink, body: () => Buffer.concat(chunks, size) };
}

export async function handleResponse(ctx: RouteContext): Promise<void> {
  const { state, req, res } = ctx;
  const { life, limits } = state;
  // Claimed before the body is read (as `next` claims its event), so two concurrent posts cannot both win.
  const slot = life.claim(ctx.params.requestId);
  if (isRefusal(slot)) {
    sendRefusal(res, slot);
    return;
  }
  const limit = limits.maxResponseBytes;
  const finishTooLarge = () => {
    life.finish(slot, tooLarge(limit));
    sendError(res, 413, ApiErrorType.tooLarge, `response exceeds the ${limit}-byte limit`);
  };
  if (declaredOver(ctx, limit) !== undefined) {
    finishTooLarge();
    return;
  }
  const streamed = headerValue(req.headers['lambda-runtime-function-response-mode']) === 'streaming';
  const path = slot.invocation.resultPath;
  let bytes = 0;
  let crc = 0;
  // The run record's SHA-256 of the result, beside the CRC-32 the upload sends: both as the bytes arrive.
  const sha = createHash('sha256');
  const counter = new Transform({
    highWaterMark: WRITE_BUFFER,
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      crc = crc32(chunk, crc);
      sha.update(chunk);
      done(bytes > limit ? new TooLargeError() : null, chunk);
    },
  });
  const kept = keepsInMemory(ctx, slot.invocation.resultInMemoryUpTo, streamed) ? inMemory() : undefined;
  const sink = kept?.sink ?? createWriteStream(path, { highWaterMark: WRITE_BUFFER });
  let diskError: Error | undefined;
  if (!kept)
    sink.once('error', (err: Error) => {
      diskError = err;
    });
  try {
    await pipeline(req, counter, sink);
  } catch (err) {
    if (!kept) await unlink(path).catch(() => {});
    if (err instanceof TooLargeError) {
      finishTooLarge();
    } else if (diskError) {
      // Our disk failed, not the runtime: the run ends with the I/O error rather than blaming the function.
      life.finish(slot, { kind: 'result-not-stored', message: diskError.message });
      sendError(res, 500, ApiErrorType.badRequest, `the result could not be stored: ${diskError.message}`);
    } else {
      // The runtime went away mid-body: no verdict; the runner will see the runtime exit.
      life.release(slot);
      res.destroy();
    }
    return;
  }
  const failed = streamed ? trailerError(req.trailers) : undefined;
  if (failed) {
    await unlink(path).catch(() => {});
    life.finish(slot, { kind: 'error', ...failed });
    sendAccepted(res);
    return;
  }
  const body = kept?.body();
  slot.invocation.resultStored?.({ bytes, crc32: crc, sha256: sha.digest('hex'), ...(body ? { body } : {}) });
  const contentType = headerValue(req.headers['content-type']);
  life.finish(slot, { kind: 'response', bytes, streamed, ...(contentType ? { contentType } : {}) });
  sendAccepted(res);
}
