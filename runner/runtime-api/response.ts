// POST /runtime/invocation/{id}/response: streams the result to disk (never parsed), then 202.
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { ApiErrorType, sendAccepted, sendError } from './render.js';
import { checkInvocationCall, type RouteContext, refuseDeclaredTooLarge } from './state.js';

/** Room for the disk to lag behind the socket, so the runtime's upload is not paused after every chunk. */
const WRITE_BUFFER = 4 * 1024 * 1024;

class TooLargeError extends Error {
  override name = 'TooLargeError';
}

export async function handleResponse(ctx: RouteContext): Promise<void> {
  const { state, req, res } = ctx;
  if (!checkInvocationCall(ctx)) return;
  const limit = state.limits.maxResponseBytes;
  if (refuseDeclaredTooLarge(ctx, limit)) return;
  const path = state.invocation.resultPath;
  let bytes = 0;
  let crc = 0;
  const counter = new Transform({
    highWaterMark: WRITE_BUFFER,
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      crc = crc32(chunk, crc);
      done(bytes > limit ? new TooLargeError() : null, chunk);
    },
  });
  const file = createWriteStream(path, { highWaterMark: WRITE_BUFFER });
  let diskError: Error | undefined;
  file.once('error', (err) => {
    diskError = err;
  });
  try {
    await pipeline(req, counter, file);
  } catch (err) {
    await unlink(path).catch(() => {});
    if (err instanceof TooLargeError) {
      sendError(res, 413, ApiErrorType.tooLarge, `response exceeds the ${limit}-byte limit`);
    } else if (diskError && state.phase === 'invoking') {
      // Our disk failed, not the runtime: the run ends with the I/O error rather than blaming the function.
      state.phase = 'done';
      state.settle({ kind: 'result-not-stored', message: diskError.message });
      sendError(res, 500, ApiErrorType.badRequest, `the result could not be stored: ${diskError.message}`);
    } else {
      // The runtime went away mid-body: no outcome yet; the runner will see the runtime exit.
      res.destroy();
    }
    return;
  }
  if (state.phase !== 'invoking') {
    // Another post won the race while this body streamed in.
    sendError(res, 403, ApiErrorType.invalidState, `no invocation in flight (state: ${state.phase})`);
    return;
  }
  state.phase = 'done';
  state.invocation.resultStored?.({ bytes, crc32: crc });
  state.settle({ kind: 'response', bytes });
  sendAccepted(res);
}
