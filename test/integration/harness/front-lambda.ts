// The Lambda-specific parts of the front: keep uploaded code bytes, rewrite code locations to the front's URLs.
import { fakeAuth } from './clients.js';
import type { CodeStore } from './front-code.js';
import type { RecordedRequest } from './front-log.js';

interface CodeSource {
  ZipFile?: string;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
}

function sourceOf(rec: RecordedRequest): CodeSource | undefined {
  const body = rec.body as { Code?: CodeSource; Content?: CodeSource } & CodeSource;
  if (!body || typeof body !== 'object') return undefined;
  if (rec.operation === 'CreateFunction') return body.Code;
  if (rec.operation === 'UpdateFunctionCode') return body;
  if (rec.operation === 'PublishLayerVersion') return body.Content;
  return undefined;
}

/**
 * Keeps the zip of a CreateFunction / UpdateFunctionCode / PublishLayerVersion as it passes, from the
 * base64 `ZipFile` or by reading the named S3 object from moto.
 */
export async function keepUploadedCode(
  rec: RecordedRequest,
  code: CodeStore,
  upstream: string,
): Promise<void> {
  const src = sourceOf(rec);
  if (!src) return;
  if (typeof src.ZipFile === 'string') {
    code.register(Buffer.from(src.ZipFile, 'base64'));
    return;
  }
  if (src.S3Bucket && src.S3Key) {
    const key = src.S3Key.split('/').map(encodeURIComponent).join('/');
    const version = src.S3ObjectVersion ? `?versionId=${encodeURIComponent(src.S3ObjectVersion)}` : '';
    const res = await fetch(`${upstream}/${encodeURIComponent(src.S3Bucket)}/${key}${version}`, {
      headers: fakeAuth('s3'),
    }).catch(() => undefined);
    if (res?.ok) code.register(Buffer.from(await res.arrayBuffer()));
    else await res?.arrayBuffer();
  }
}

interface GetFunctionBody {
  Configuration?: { FunctionName?: string; CodeSha256?: string; CodeSize?: number } & Record<string, unknown>;
  Code?: { Location?: string; RepositoryType?: string; ImageUri?: string };
  Content?: { Location?: string; CodeSha256?: string; CodeSize?: number };
  LayerArn?: string;
  LayerVersionArn?: string;
  Version?: number;
}

/** Configuration fields moto does not keep (LoggingConfig, DurableConfig…), added to GetFunction by function name. */
export type ConfigurationPatches = Map<string, Record<string, unknown>>;

/**
 * Rewrites `Code.Location` (GetFunction) or `Content.Location` (GetLayerVersion) to a URL the front serves, and
 * adds a function's configuration patch.
 */
export function rewriteCodeLocation(
  raw: Buffer,
  code: CodeStore,
  base: string,
  patches?: ConfigurationPatches,
): Buffer {
  let json: GetFunctionBody;
  try {
    json = JSON.parse(raw.toString('utf8')) as GetFunctionBody;
  } catch {
    return raw;
  }
  const patch = json.Configuration && patches?.get(json.Configuration.FunctionName ?? '');
  if (json.Configuration && patch) Object.assign(json.Configuration, patch);
  if (json.Code && json.Configuration && !json.Code.ImageUri) {
    code.rewrite(json.Code, json.Configuration, json.Configuration.FunctionName ?? '', base);
  } else if (json.Content) {
    const arn = json.LayerVersionArn ?? `${json.LayerArn ?? ''}:${json.Version ?? ''}`;
    // arn:aws:lambda:region:acct:layer:NAME:VERSION → NAME:VERSION
    const target = arn.split(':').slice(6).join(':');
    code.rewrite(json.Content, json.Content, target, base);
  } else {
    return raw;
  }
  return Buffer.from(JSON.stringify(json));
}

/**
 * The URL to send moto for this request. moto answers GetLayerVersionByArn (`/layers?find=LayerVersion&Arn=…`)
 * as if it were ListLayers, so the front asks for the same layer version by name and number instead.
 */
export function upstreamUrl(rec: RecordedRequest, url: string): string {
  if (rec.operation !== 'GetLayerVersionByArn') return url;
  const m = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:layer:([^:]+):(\d+)$/.exec(rec.query.get('Arn') ?? '');
  if (!m) return url;
  return url.replace(/\/layers\/?\?.*$/, `/layers/${encodeURIComponent(m[1] ?? '')}/versions/${m[2]}`);
}
