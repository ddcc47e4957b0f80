// Code bytes the front serves behind presigned-looking URLs, since moto's Code.Location cannot be downloaded.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How downloads for one function or layer misbehave (see Front.codeFault). */
export type CodeFaultMode =
  /** serve the right length with flipped bytes, so the SHA-256 does not match CodeSha256 */
  | { kind: 'wrong-bytes' }
  /** the first download answers 403 "Request has expired"; URLs from later GetFunction calls work */
  | { kind: 'expire-once' }
  /**
   * serve `bytes` instead of the real code; with `reportSha` (default true) GetFunction / GetLayerVersion
   * also report their SHA-256 and size, so the checksum passes and the archive itself is what gets judged.
   */
  | { kind: 'replace'; bytes: Buffer; reportSha?: boolean };

export interface CodeFaultHandle {
  /** downloads this fault has answered */
  readonly hits: number;
  remove(): void;
}

interface IssuedUrl {
  sha256: string;
  target: string;
  issuedAt: number;
  expiresS: number;
  expired: boolean;
}

interface ActiveFault {
  target: string;
  mode: CodeFaultMode;
  hits: number;
}

export const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const hexToB64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
export const b64ToHex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');

/** Does a fault target (function name, layer name, or `layer:version`) cover this download target? */
function covers(faultTarget: string, target: string): boolean {
  return faultTarget === target || target.startsWith(`${faultTarget}:`);
}

export class CodeStore {
  /** zip bytes by SHA-256 hex */
  readonly blobs = new Map<string, Buffer>();
  private readonly urls = new Map<string, IssuedUrl>();
  private faults: ActiveFault[] = [];

  /** Keeps `bytes` so a URL for their SHA-256 can serve them; returns the hex digest. */
  register(bytes: Buffer): string {
    const hex = sha256Hex(bytes);
    this.blobs.set(hex, bytes);
    return hex;
  }

  fault(target: string, mode: CodeFaultMode): CodeFaultHandle {
    const f: ActiveFault = { target, mode, hits: 0 };
    if (mode.kind === 'replace') this.register(mode.bytes);
    this.faults.push(f);
    return {
      get hits() {
        return f.hits;
      },
      remove: () => {
        this.faults = this.faults.filter((x) => x !== f);
      },
    };
  }

  clearFaults(): void {
    this.faults = [];
  }

  private active(target: string): ActiveFault | undefined {
    return this.faults.find((f) => covers(f.target, target));
  }

  /**
   * Rewrites the code description of a GetFunction (`Code` + `Configuration`) or GetLayerVersion (`Content`)
   * answer in place: a fresh URL on this front, and the replaced SHA/size when a `replace` fault says so.
   */
  rewrite(
    location: { Location?: string },
    sha: { CodeSha256?: string; CodeSize?: number },
    target: string,
    base: string,
  ): void {
    const fault = this.active(target);
    let hex = sha.CodeSha256 ? b64ToHex(sha.CodeSha256) : '';
    if (fault?.mode.kind === 'replace') {
      const replaced = sha256Hex(fault.mode.bytes);
      if (fault.mode.reportSha !== false) {
        sha.CodeSha256 = hexToB64(replaced);
        sha.CodeSize = fault.mode.bytes.length;
      }
      hex = replaced;
    }
    const signature = randomBytes(16).toString('hex');
    const expiresS = 600;
    this.urls.set(signature, { sha256: hex, target, issuedAt: Date.now(), expiresS, expired: false });
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const q = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Date': date,
      'X-Amz-Expires': String(expiresS),
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': signature,
    });
    location.Location = `${base}/code/${hex}?${q}`;
  }

  /** Which download a /code/ URL stands for (for the request log), or undefined for a forged URL. */
  lookup(query: URLSearchParams): IssuedUrl | undefined {
    return this.urls.get(query.get('X-Amz-Signature') ?? '');
  }

  /**
   * Decides the answer for GET/HEAD /code/<sha>: status, headers and body. The caller sends it (so that
   * the general fault injector can still drop or delay it).
   */
  answer(
    query: URLSearchParams,
    range: string | undefined,
  ): { status: number; headers: Record<string, string>; body: Buffer } {
    const url = this.lookup(query);
    if (!url)
      return s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match.');
    const fault = this.active(url.target);
    if (fault?.mode.kind === 'expire-once') {
      fault.hits++;
      // Everything issued up to now for this target expires together; only later GetFunction URLs work.
      for (const u of this.urls.values()) if (u.target === url.target) u.expired = true;
      this.faults = this.faults.filter((f) => f !== fault);
    }
    if (url.expired || Date.now() > url.issuedAt + url.expiresS * 1000) {
      return s3Error(403, 'AccessDenied', 'Request has expired');
    }
    let body = this.blobs.get(url.sha256);
    if (!body) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    if (fault?.mode.kind === 'wrong-bytes') {
      fault.hits++;
      body = Buffer.from(body);
      for (let i = Math.max(0, body.length - 8); i < body.length; i++) body[i] = (body[i] ?? 0) ^ 0xff;
    } else if (fault?.mode.kind === 'replace') {
      fault.hits++;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/zip',
      etag: `"${url.sha256.slice(0, 32)}"`,
      'accept-ranges': 'bytes',
    };
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) return s3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
      headers['content-range'] = `bytes ${start}-${end}/${body.length}`;
      return { status: 206, headers, body: body.subarray(start, end + 1) };
    }
    return { status: 200, headers, body };
  }
}

export function s3Error(
  status: number,
  code: string,
  message: string,
): { status: number; headers: Record<string, string>; body: Buffer } {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;
  return { status, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xml) };
}

/** Sends a prepared answer; HEAD gets the headers only. */
export function sendAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  a: { status: number; headers: Record<string, string>; body: Buffer },
): void {
  res.writeHead(a.status, { ...a.headers, 'content-length': String(a.body.length) });
  res.end(req.method === 'HEAD' ? undefined : a.body);
}
