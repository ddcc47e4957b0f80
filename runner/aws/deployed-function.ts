// Prepares a deployed Lambda function to run here: GetFunction, verified code and layer downloads, cache, /opt.
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { endpointFor, type NetworkTimeouts, regionFromEnv } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { mapAbortable } from '../../lib/pool.js';
import { FunctionPrepareError, UnsupportedFunctionError, UsageError } from '../errors.js';
import type { FunctionIdentity, PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { checkArchitecture } from '../runtime/architecture.js';
import { type CodeCache, changedNote, materialize, openCodeCache, sharedExtractor } from './code-cache.js';
import { downloadVerified } from './download.js';
import {
  type DescribedFunction,
  describeFunction,
  functionRefOf,
  getFunction,
  sha256Hex,
} from './get-function.js';
import { layerContent, materializeLayers, overlayLayers, parseLayerArn } from './layers.js';
import { lambdaClient } from './sdk-clients.js';

export interface DeployedFunctionDeps {
  cacheDir: string;
  useCache: boolean;
  optDir: string;
  log: Logger;
  env: Env;
  signal?: AbortSignal;
  timeouts?: NetworkTimeouts;
  /**
   * --external-runtime: the function runs elsewhere (its own image, or a runtime started beside the runner), so only
   * its configuration is read: no code or layer is downloaded, nothing goes into the opt dir.
   */
  describeOnly?: boolean;
  /** --ignore-architecture: a function built for another machine runs, with a warning, instead of being refused. */
  ignoreArchitecture?: boolean;
  /** Told what GetFunction said ran, as soon as it answered (a run that fails later still records it). */
  onDescribed?: (identity: FunctionIdentity) => void;
}

export type DeployedFunction = PreparedFunction & { cleanup(): Promise<void> };

/**
 * Resolves `ref` (name, ARN, qualified ARN) with GetFunction and puts its code and layers on disk. The code
 * folder is the cache folder itself (Lambda's task root is read-only, so functions do not write there); the
 * layers are copied into `optDir` in the function's order.
 */
export async function prepareDeployedFunction(
  ref: string,
  deps: DeployedFunctionDeps,
): Promise<DeployedFunction> {
  const { log } = deps;
  const target = functionRefOf(ref);
  // An ARN's own region is the only one GetFunction can find it in; AWS_REGION is for bare names.
  const region = target.region ?? regionFromEnv(deps.env);
  if (!region) {
    throw new UsageError(`no AWS region for ${ref}: set AWS_REGION or give the function as an ARN`);
  }
  const lambda = lambdaClient(deps.env, region, deps.timeouts);
  const answer = await getFunction(lambda, target, ref);
  log.debug(`GetFunction answered for ${ref}`);
  const described = describeFunction(answer, target, region);
  deps.onDescribed?.(described.identity);
  refuseUnsupported(described);
  // Before any download: its code would be fetched only to fail to load.
  checkArchitecture({
    functionName: described.basics.functionName,
    architecture: described.architecture,
    runtime: described.basics.runtime,
    ignore: deps.ignoreArchitecture ?? false,
    env: deps.env,
    log,
  });
  reportConcurrency(described, log);
  if (deps.describeOnly) return describedOnly(described, lambda);
  const name = described.basics.functionName;
  const { location, sha256Base64 } = described.code;
  if (described.image) {
    const image = described.code.imageUri ? ` (${described.code.imageUri})` : '';
    throw new FunctionPrepareError(
      `${name} is a container image function${image}: it runs in its own image, as the job of two containers the dispatcher submits for it (that image beside run-lambda --external-runtime); this runner cannot start it by itself`,
    );
  }
  if (!location || !sha256Base64 || !described.basics.handler || !described.basics.runtime) {
    throw new FunctionPrepareError(
      `GetFunction for ${name} returned no code location, checksum, handler or runtime`,
    );
  }
  const refreshUrl = async () => (await getFunction(lambda, target, ref)).Code?.Location ?? location;
  return downloadFunction(described, { location, sha256Base64, refreshUrl }, lambda, deps);
}

/** Durable functions checkpoint and replay through Lambda's durable execution service: not there in Batch. */
function refuseUnsupported(described: DescribedFunction): void {
  if (described.durable) {
    throw new UnsupportedFunctionError(
      `${described.basics.functionName} is a durable function (DurableConfig): its steps checkpoint and replay through Lambda's durable execution service, which a Batch job has no part in; invoke it in Lambda`,
    );
  }
}

/** Lambda Managed Instances may run several invocations in one environment; the runner runs one at a time. */
function reportConcurrency(described: DescribedFunction, log: Logger): void {
  const mi = described.managedInstances;
  if (!mi) return;
  const n = mi.maxConcurrency;
  const many = n !== undefined && n > 1 ? ` with up to ${n} concurrent invocations per environment` : '';
  log.info(
    `${described.basics.functionName} runs on Lambda Managed Instances${many}; here it serves one invocation at a time, and AWS_LAMBDA_MAX_CONCURRENCY is not set`,
  );
}

/**
 * A deployed function known by its configuration alone (--external-runtime): what its runtime, started elsewhere,
 * is invoked as, and what the run record says ran. Nothing is downloaded; a container image function is one of these.
 */
async function describedOnly(described: DescribedFunction, lambda: LambdaClient): Promise<DeployedFunction> {
  const name = described.basics.functionName;
  const layers = await Promise.all(
    described.layerArns.map(async (arn) => {
      const content = await layerContent(lambda, parseLayerArn(arn), name);
      return { arn, codeSha256: sha256Hex(content.sha256) };
    }),
  );
  const uri = described.code.imageUri;
  return {
    ...described.basics,
    architecture: described.architecture,
    // The code is in the runtime's own container; nothing of it is here, nor its environment.
    taskRoot: '',
    optDir: '',
    environment: {},
    deployed: {
      codeSha256: described.identity.codeSha256,
      layers,
      ...(uri ? { image: { uri, digest: described.code.imageDigest } } : {}),
    },
    cleanup: async () => {},
  };
}

/** A zip function's code, as GetFunction gave it, and how to ask for a fresh URL once the first expired. */
interface ZipCode {
  location: string;
  sha256Base64: string;
  refreshUrl: () => Promise<string>;
}

/** Downloads (or finds in the cache) the code and the layers side by side, then lays the layers over the opt dir. */
async function downloadFunction(
  described: DescribedFunction,
  code: ZipCode,
  lambda: LambdaClient,
  deps: DeployedFunctionDeps,
): Promise<DeployedFunction> {
  const { log } = deps;
  const name = described.basics.functionName;
  const cache = await openCodeCache(deps.cacheDir, deps.useCache);
  try {
    const extract = sharedExtractor();
    const [codeDir, layers] = await allOrNothing(
      deps.signal,
      (signal) => materializeCode(cache, described, code, { extract, log, signal, timeouts: deps.timeouts }),
      (signal) =>
        materializeLayers(described.layerArns, {
          lambda,
          cache,
          functionName: name,
          extract,
          log,
          signal,
          ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
          endpoint: endpointFor(deps.env, 'lambda') ?? '',
        }),
    );
    log.debug(`${name}: code and layers in place`);
    const fetched = [codeDir, ...layers].filter((m) => m.downloaded).length;
    log.debug(`${name}: ${fetched} of ${1 + layers.length} archives downloaded, the rest from ${cache.dir}`);
    const overlay = await overlayLayers(
      layers.map((l) => l.dir),
      deps.optDir,
      log,
    );
    log.debug(`${name}: layers copied into ${deps.optDir}`);
    return {
      ...described.basics,
      architecture: described.architecture,
      taskRoot: codeDir.dir,
      optDir: deps.optDir,
      environment: described.environment,
      deployed: {
        codeSha256: sha256Hex(code.sha256Base64),
        layers: layers.map((l) => ({ arn: l.arn, codeSha256: sha256Hex(l.sha256) })),
      },
      cleanup: async () => {
        await overlay.undo();
        await cache.cleanup();
      },
    };
  } catch (err) {
    await cache.cleanup().catch(() => {});
    throw err;
  }
}

/** The function's code folder: from the cache, or downloaded, verified and extracted into it. */
function materializeCode(
  cache: CodeCache,
  described: DescribedFunction,
  code: ZipCode,
  how: {
    extract: ReturnType<typeof sharedExtractor>;
    log: Logger;
    signal: AbortSignal;
    timeouts: NetworkTimeouts | undefined;
  },
) {
  const { log, signal } = how;
  const label = `code of ${described.basics.functionName}`;
  return materialize(
    cache,
    'code',
    code.sha256Base64,
    (zipPath) =>
      downloadVerified(code.location, zipPath, {
        label,
        sha256Base64: code.sha256Base64,
        ...(described.code.size ? { expectedSize: described.code.size } : {}),
        ...(how.timeouts ? { timeouts: how.timeouts } : {}),
        refreshUrl: code.refreshUrl,
        log,
        signal,
      }),
    how.extract,
    {
      signal,
      label,
      onWait: (holder) => log.info(`waiting for ${holder}, which is downloading the ${label}`),
      onChanged: (why) => log.warn(changedNote(label, why)),
    },
  );
}

/**
 * Runs the code and layer downloads side by side; when one fails, the others are aborted and awaited, so
 * nothing is still writing into the cache when the caller cleans it up (lib/pool.ts's mapAbortable).
 */
async function allOrNothing<A, B>(
  outer: AbortSignal | undefined,
  a: (signal: AbortSignal) => Promise<A>,
  b: (signal: AbortSignal) => Promise<B>,
): Promise<[A, B]> {
  const [first, second] = await mapAbortable<(signal: AbortSignal) => Promise<unknown>, unknown>(
    [a, b],
    (start, signal) => start(signal),
    outer,
  );
  return [first as A, second as B];
}
