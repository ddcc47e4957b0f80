// The payload's size and SHA-256 for the run record, computed as its bytes stream past once (a download, stdin, or
// the event on its way to the runtime): never a second read.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, Readable, Transform } from 'node:stream';

export interface PayloadDigest {
  bytes: number;
  /** hex */
  sha256: string;
}

/** A pass-through that hashes what flows through it and hands the digest over once the stream has ended. */
export function digestTap(onDone: (digest: PayloadDigest) => void): Transform {
  const sha = createHash('sha256');
  let bytes = 0;
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      sha.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      onDone({ bytes, sha256: sha.digest('hex') });
      done();
    },
  });
}

/** The digest of bytes already in memory (a `data:` payload). */
export function digestOf(bytes: Buffer): PayloadDigest {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A payload on local disk (or on its way there), and its digest once some stream has seen all of it. */
export interface DigestedFile {
  path: string;
  ready: Promise<unknown>;
  digest?: PayloadDigest;
  /** The payload in memory instead of at `path` (a small item's event), its digest taken on its way in. */
  body?: Buffer;
}

/**
 * Opens the payload for the runtime once it is on disk (or in memory). When no download hashed it (a local file), it
 * is hashed here, on its way to the runtime.
 */
export async function openDigested(payload: DigestedFile): Promise<{ stream: Readable; size: number }> {
  await payload.ready;
  if (payload.body) return { stream: Readable.from([payload.body]), size: payload.body.length };
  const { size } = await stat(payload.path);
  const file = createReadStream(payload.path, { highWaterMark: 1 << 20 });
  if (payload.digest) return { stream: file, size };
  const tap = digestTap((d) => {
    payload.digest = d;
  });
  // A read error of the file destroys the tap with it, which ends the event's response with that error.
  return { stream: pipeline(file, tap, () => {}), size };
}
