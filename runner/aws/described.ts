// A deployed function known by its configuration alone (--external-runtime): what its runtime, started elsewhere,
// is invoked as, and what the run record says ran. Nothing is downloaded; a container image function is one of these.
import type { GetFunctionCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { regionFromArn } from '../../lib/aws-config.js';
import type { FunctionLogging } from '../function.js';
import type { RemoteFunction } from './function.js';
import { type FunctionRef, unqualifiedArn } from './function-ref.js';
import { layerContent, parseLayerArn } from './layers.js';

type Configuration = NonNullable<GetFunctionCommandOutput['Configuration']>;

/**
 * GetFunction's CodeSha256 as hex: a zip function's is base64 of the digest, an image function's the digest in hex
 * already (the image manifest's, as `sha256:<hex>` in ResolvedImageUri).
 */
export function sha256Hex(value: string): string {
  if (/^[0-9a-f]{64}$/.test(value)) return value;
  return Buffer.from(value, 'base64').toString('hex');
}

export async function describedFunction(
  out: GetFunctionCommandOutput,
  target: FunctionRef,
  region: string,
  lambda: LambdaClient,
): Promise<RemoteFunction> {
  const config: Configuration = out.Configuration ?? {};
  const name = config.FunctionName ?? target.functionName;
  const functionArn = unqualifiedArn(config.FunctionArn ?? target.functionName);
  const layers = await Promise.all(
    (config.Layers ?? [])
      .flatMap((l) => (l.Arn ? [l.Arn] : []))
      .map(async (arn) => {
        const content = await layerContent(lambda, parseLayerArn(arn), name);
        return { arn, codeSha256: sha256Hex(content.sha256) };
      }),
  );
  const uri = out.Code?.ImageUri;
  const digest = out.Code?.ResolvedImageUri?.split('@')[1] ?? null;
  return {
    // The code is in the runtime's own container; nothing of it is here.
    taskRoot: '',
    optDir: '',
    // An image function has neither (its image's CMD names the handler): '' stands for "not configured".
    handler: config.Handler ?? '',
    runtime: config.Runtime ?? '',
    functionName: name,
    functionVersion: config.Version ?? '$LATEST',
    invokedFunctionArn: target.qualifier ? `${functionArn}:${target.qualifier}` : functionArn,
    memorySizeMb: config.MemorySize ?? 128,
    ...(config.Timeout ? { timeoutSeconds: config.Timeout } : {}),
    environment: {},
    region: regionFromArn(functionArn) ?? region,
    ...(config.LoggingConfig ? { logging: loggingOf(config.LoggingConfig) } : {}),
    tenantIsolation: config.TenancyConfig?.TenantIsolationMode === 'PER_TENANT',
    deployed: {
      codeSha256: config.CodeSha256 ? sha256Hex(config.CodeSha256) : '',
      layers,
      ...(uri ? { image: { uri, digest } } : {}),
    },
    cleanup: async () => {},
  };
}

export function loggingOf(c: NonNullable<Configuration['LoggingConfig']>): FunctionLogging {
  return {
    format: c.LogFormat === 'JSON' ? 'JSON' : 'Text',
    ...(c.ApplicationLogLevel ? { applicationLogLevel: c.ApplicationLogLevel } : {}),
    ...(c.SystemLogLevel ? { systemLogLevel: c.SystemLogLevel } : {}),
    ...(c.LogGroup ? { logGroup: c.LogGroup } : {}),
  };
}
