// A function's layers: GetLayerVersion for each, verified download into the cache, then overlay into the opt dir.
import { GetLayerVersionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { NetworkTimeouts } from '../../lib/aws-config.js';
import { parseLayerVersionArn } from '../../lib/lambda-arn.js';
import { mapAbortable } from '../../lib/pool.js';
import type { ExtractResult } from '../archive/extract.js';
import { FunctionPrepareError, RunnerError } from '../errors.js';
import type { Logger } from '../log.js';
import { applyLayers, type Overlay } from '../opt/overlay.js';
import { describeAwsError } from './aws-errors.js';
import { type CodeCache, changedNote, type Materialized, materialize } from './code-cache.js';
import { downloadVerified } from './download.js';
import { knownLayerSha, rememberLayerSha } from './layer-index.js';

export interface LayerRef {
  arn: string;
  /** The layer's ARN without the version: GetLayerVersion's LayerName (works across accounts). */
  layerName: string;
  version: number;
}

/** Splits `arn:aws:lambda:<region>:<account>:layer:<name>:<version>` (lib/lambda-arn.ts reads it). */
export function parseLayerArn(arn: string): LayerRef {
  const layer = parseLayerVersionArn(arn);
  if (!layer) throw new FunctionPrepareError(`not a layer version ARN: ${arn}`);
  return { arn, layerName: layer.layerArn, version: layer.version };
}

/** GetLayerVersion's content of one layer: where to download it, its SHA-256 (base64, as Lambda gives it), size. */
export async function layerContent(lambda: LambdaClient, layer: LayerRef, functionName: string) {
  try {
    const out = await lambda.send(
      new GetLayerVersionCommand({ LayerName: layer.layerName, VersionNumber: layer.version }),
    );
    const c = out.Content;
    if (!c?.Location || !c.CodeSha256)
      throw new FunctionPrepareError(`layer ${layer.arn} has no downloadable content`);
    return { location: c.Location, sha256: c.CodeSha256, size: c.CodeSize };
  } catch (err) {
    throw describeAwsError(err, {
      what: `layer ${layer.arn} of ${functionName}`,
      permission: 'lambda:GetLayerVersion',
    });
  }
}

/** Downloads (or finds in the cache) every layer, concurrently; returns their folders in the function's order. */
export function materializeLayers(
  layerArns: string[],
  deps: {
    lambda: LambdaClient;
    cache: CodeCache;
    functionName: string;
    extract: (zipPath: string, dir: string) => Promise<ExtractResult>;
    log: Logger;
    signal?: AbortSignal;
    timeouts?: NetworkTimeouts;
    /** The Lambda endpoint the layers come from (AWS_ENDPOINT_URL_LAMBDA…), when not AWS's own. */
    endpoint?: string;
  },
): Promise<(Materialized & { arn: string; sha256: string })[]> {
  // One layer failing stops the others, and the answer waits until every one has stopped: nothing may still
  // be writing into the cache (a temp zip, a lock) when the caller cleans up or the process exits.
  return mapAbortable(layerArns, (arn, signal) => materializeLayer(arn, { ...deps, signal }), deps.signal);
}

type LayerDeps = Parameters<typeof materializeLayers>[1];

/**
 * One layer, from the cache or downloaded. A layer version the cache holds needs no GetLayerVersion (layer-index.ts):
 * it is asked only when the layer must be downloaded, and the bytes are verified against the checksum either way.
 */
async function materializeLayer(
  arn: string,
  deps: LayerDeps,
): Promise<Materialized & { arn: string; sha256: string }> {
  const { cache, signal, endpoint } = deps;
  const layer = parseLayerArn(arn);
  let asked: ReturnType<typeof layerContent> | undefined;
  const content = () => {
    asked ??= layerContent(deps.lambda, layer, deps.functionName);
    return asked;
  };
  const known = cache.persistent ? knownLayerSha(cache.dir, arn, endpoint) : undefined;
  const sha256 = known ?? (await content()).sha256;
  const label = `layer ${layer.layerName.split(':').pop()}:${layer.version}`;
  const download = async (zipPath: string) => {
    const c = await content();
    if (c.sha256 !== sha256)
      throw new FunctionPrepareError(
        `${label}: GetLayerVersion gives CodeSha256 ${c.sha256} where the cache recorded ${sha256}; remove ${cache.dir} or pass --no-cache`,
      );
    return downloadVerified(c.location, zipPath, {
      label,
      sha256Base64: sha256,
      ...(c.size ? { expectedSize: c.size } : {}),
      ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
      refreshUrl: async () => (await layerContent(deps.lambda, layer, deps.functionName)).location,
      log: deps.log,
      ...(signal ? { signal } : {}),
    });
  };
  const placed = await materialize(cache, 'layer', sha256, download, deps.extract, {
    ...(signal ? { signal } : {}),
    label,
    onWait: (holder) => deps.log.info(`waiting for ${holder}, which is downloading the ${label}`),
    onChanged: (why) => deps.log.warn(changedNote(label, why)),
  });
  if (cache.persistent && !known) await rememberLayerSha(cache.dir, arn, sha256, endpoint);
  return { ...placed, arn, sha256 };
}

/**
 * Lays the layer folders over `optDir` in order, a later layer's files over an earlier one's, as Lambda
 * overlays them in /opt, and returns how to take them off again (runner/opt/overlay.ts). Copies rather than
 * hard links or symlinks: a function that writes under /opt must not change the cache. Each file is a
 * reflink where the filesystem can (btrfs, XFS), a plain copy elsewhere.
 */
export async function overlayLayers(dirs: string[], optDir: string, log?: Logger): Promise<Overlay> {
  try {
    return await applyLayers(dirs, optDir, log ? { warn: (m) => log.warn(m) } : {});
  } catch (err) {
    if (err instanceof RunnerError) throw err;
    throw new FunctionPrepareError(
      `could not put the layers into ${optDir}: ${(err as Error).message} (choose another folder with --opt-dir)`,
      { cause: err },
    );
  }
}
