// Prepares a deployed Lambda function to run here: GetFunction, verified code and layer downloads, cache, /opt.
import { GetFunctionCommand, type GetFunctionCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { type NetworkTimeouts, regionFromArn, regionFromEnv } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { FunctionPrepareError, UnsupportedFunctionError, UsageError } from '../errors.js';
import type { FunctionIdentity, PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { describeAwsError } from './aws-errors.js';
import { lambdaClient } from './clients.js';
import { describedFunction, loggingOf, sha256Hex } from './described.js';
import { downloadVerified } from './download.js';
import { type FunctionRef, hostArchitecture, parseFunctionRef, unqualifiedArn } from './function-ref.js';
import { materializeLayers, overlayLayers } from './layers.js';
import { changedNote, materialize, openStore, sharedExtractor } from './store.js';

export interface RemoteFunctionOptions {
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
  /** Told what GetFunction said ran, as soon as it answered (a run that fails later still records it). */
  onDescribed?: (identity: FunctionIdentity) => void;
}

export type RemoteFunction = PreparedFunction & { cleanup(): Promise<void> };

/**
 * Resolves `ref` (name, ARN, qualified ARN) with GetFunction and puts its code and layers on disk. The code
 * folder is the cache folder itself (Lambda's task root is read-only, so functions do not write there); the
 * layers are copied into `optDir` in the function's order.
 */
export async function prepareRemoteFunction(
  ref: string,
  opts: RemoteFunctionOptions,
): Promise<RemoteFunction> {
  const { log } = opts;
  const target = parseFunctionRef(ref);
  // An ARN's own region is the only one GetFunction can find it in; AWS_REGION is for bare names.
  const region = target.region ?? regionFromEnv(opts.env);
  if (!region) {
    throw new UsageError(`no AWS region for ${ref}: set AWS_REGION or give the function as an ARN`);
  }
  const lambda = lambdaClient(opts.env, region, opts.timeouts);
  const fn = await getFunction(lambda, target, ref);
  log.debug(`GetFunction answered for ${ref}`);
  const config = fn.Configuration ?? {};
  const name = config.FunctionName ?? target.functionName;
  const functionArn = unqualifiedArn(config.FunctionArn ?? target.functionName);
  opts.onDescribed?.({
    arn: target.qualifier ? `${functionArn}:${target.qualifier}` : functionArn,
    version: config.Version ?? '$LATEST',
    runtime: config.Runtime ?? '',
    handler: config.Handler ?? '',
    codeSha256: config.CodeSha256 ? sha256Hex(config.CodeSha256) : '',
  });
  refuseUnsupported(name, config);
  reportConcurrency(name, config, log);
  if (opts.describeOnly) return describedFunction(fn, target, region, lambda);
  if (config.PackageType === 'Image') {
    const image = fn.Code?.ImageUri ? ` (${fn.Code.ImageUri})` : '';
    throw new FunctionPrepareError(
      `${name} is a container image function${image}: it runs in its own image, as the job of two containers the dispatcher submits for it (that image beside run-lambda --external-runtime); this runner cannot start it by itself`,
    );
  }
  const arch = config.Architectures?.[0] ?? 'x86_64';
  if (arch !== hostArchitecture()) {
    log.warn(
      `${name} is built for ${arch} but this machine is ${hostArchitecture()}; native code may fail to load`,
    );
  }
  const codeSha = config.CodeSha256;
  if (!fn.Code?.Location || !codeSha || !config.Handler || !config.Runtime) {
    throw new FunctionPrepareError(
      `GetFunction for ${name} returned no code location, checksum, handler or runtime`,
    );
  }
  const store = await openStore(opts.cacheDir, opts.useCache);
  try {
    const codeLocation = fn.Code.Location;
    const layerArns = (config.Layers ?? []).flatMap((l) => (l.Arn ? [l.Arn] : []));
    const [code, layers] = await allOrNothing(opts.signal, (signal) => {
      const extract = sharedExtractor();
      return [
        materialize(
          store,
          'code',
          codeSha,
          (zipPath) =>
            downloadVerified(codeLocation, zipPath, {
              label: `code of ${name}`,
              sha256Base64: codeSha,
              ...(config.CodeSize ? { expectedSize: config.CodeSize } : {}),
              ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
              refreshUrl: async () => (await getFunction(lambda, target, ref)).Code?.Location ?? codeLocation,
              log,
              signal,
            }),
          extract,
          {
            signal,
            label: `code of ${name}`,
            onWait: (holder) => log.info(`waiting for ${holder}, which is downloading the code of ${name}`),
            onChanged: (why) => log.warn(changedNote(`code of ${name}`, why)),
          },
        ),
        materializeLayers(layerArns, {
          lambda,
          store,
          functionName: name,
          extract,
          log,
          signal,
          ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
        }),
      ] as const;
    });
    log.debug(`${name}: code and layers in place`);
    const fetched = [code, ...layers].filter((m) => m.downloaded).length;
    log.debug(`${name}: ${fetched} of ${1 + layers.length} archives downloaded, the rest from ${store.dir}`);
    const overlay = await overlayLayers(
      layers.map((l) => l.dir),
      opts.optDir,
      log,
    );
    log.debug(`${name}: layers copied into ${opts.optDir}`);
    return {
      taskRoot: code.dir,
      optDir: opts.optDir,
      handler: config.Handler,
      runtime: config.Runtime,
      functionName: name,
      functionVersion: config.Version ?? '$LATEST',
      invokedFunctionArn: target.qualifier ? `${functionArn}:${target.qualifier}` : functionArn,
      memorySizeMb: config.MemorySize ?? 128,
      ...(config.Timeout ? { timeoutSeconds: config.Timeout } : {}),
      environment: { ...(config.Environment?.Variables ?? {}) },
      region: regionFromArn(functionArn) ?? region,
      ...(config.LoggingConfig ? { logging: loggingOf(config.LoggingConfig) } : {}),
      tenantIsolation: config.TenancyConfig?.TenantIsolationMode === 'PER_TENANT',
      deployed: {
        codeSha256: sha256Hex(codeSha),
        layers: layers.map((l) => ({ arn: l.arn, codeSha256: sha256Hex(l.sha256) })),
      },
      cleanup: async () => {
        await overlay.undo();
        await store.cleanup();
      },
    };
  } catch (err) {
    await store.cleanup().catch(() => {});
    throw err;
  }
}

type Configuration = NonNullable<GetFunctionCommandOutput['Configuration']>;

/** Durable functions checkpoint and replay through Lambda's durable execution service: not there in Batch. */
function refuseUnsupported(name: string, config: Configuration): void {
  if (config.DurableConfig) {
    throw new UnsupportedFunctionError(
      `${name} is a durable function (DurableConfig): its steps checkpoint and replay through Lambda's durable execution service, which a Batch job has no part in; invoke it in Lambda`,
    );
  }
}

/** Lambda Managed Instances may run several invocations in one environment; the runner runs one at a time. */
function reportConcurrency(name: string, config: Configuration, log: Logger): void {
  const mi = config.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig;
  if (!mi) return;
  const n = mi.PerExecutionEnvironmentMaxConcurrency;
  const many = n !== undefined && n > 1 ? ` with up to ${n} concurrent invocations per environment` : '';
  log.info(
    `${name} runs on Lambda Managed Instances${many}; here it serves one invocation at a time, and AWS_LAMBDA_MAX_CONCURRENCY is not set`,
  );
}

/**
 * Runs the code and layer downloads side by side; when one fails, the others are aborted and awaited, so
 * nothing is still writing into the store when the caller cleans it up.
 */
async function allOrNothing<A, B>(
  outer: AbortSignal | undefined,
  start: (signal: AbortSignal) => readonly [Promise<A>, Promise<B>],
): Promise<[A, B]> {
  const controller = new AbortController();
  const forward = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', forward, { once: true });
  const tasks = start(controller.signal);
  try {
    return await Promise.all(tasks);
  } catch (err) {
    controller.abort();
    await Promise.allSettled(tasks);
    throw err;
  } finally {
    outer?.removeEventListener('abort', forward);
  }
}

export async function getFunction(
  lambda: LambdaClient,
  target: FunctionRef,
  ref: string,
): Promise<GetFunctionCommandOutput> {
  try {
    return await lambda.send(
      new GetFunctionCommand({
        FunctionName: target.functionName,
        ...(target.qualifier ? { Qualifier: target.qualifier } : {}),
      }),
    );
  } catch (err) {
    throw describeAwsError(err, {
      what: `function ${ref}`,
      permission: 'lambda:GetFunction',
      notFound: 'function',
    });
  }
}
