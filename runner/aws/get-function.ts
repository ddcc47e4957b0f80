// GetFunction: asking Lambda for a deployed function, and the one place its answer is read. What the runtime is
// invoked as (name, ARN, version, memory, timeout, logging, tenancy), what the run record says ran, where the code is,
// and what the runner cannot run (durable functions) or runs differently (Managed Instances).
import { GetFunctionCommand, type GetFunctionCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { architectureOf } from '../../lib/architecture.js';
import {
  type FunctionRefParts,
  parseFunctionRef,
  regionFromArn,
  unqualifiedArn,
  unqualifiedRef,
} from '../../lib/lambda-arn.js';
import { UsageError } from '../errors.js';
import type { FunctionIdentity, FunctionLogging, PreparedFunction } from '../function.js';
import { describeAwsError } from './aws-errors.js';

type Configuration = NonNullable<GetFunctionCommandOutput['Configuration']>;

/**
 * What a deployed function is wherever it runs: a PreparedFunction less its code's place, its environment and what
 * the run record names. An image function configures no handler or runtime: `''` stands for "not configured".
 */
export type FunctionBasics = Omit<
  PreparedFunction,
  'taskRoot' | 'optDir' | 'environment' | 'compatShim' | 'deployed' | 'credentials'
>;

/** A deployed function as GetFunction's answer describes it. */
export interface DescribedFunction {
  basics: FunctionBasics;
  /** What the run record says ran, known as soon as GetFunction answered. */
  identity: FunctionIdentity;
  /** Its own environment variables (Environment.Variables). */
  environment: Record<string, string>;
  /** The machine it is built for (Lambda's name: x86_64 or arm64). */
  architecture: string;
  /** Its layers' version ARNs, in its order. */
  layerArns: string[];
  /** PackageType Image: its code is a container image, not a zip. */
  image: boolean;
  /** Where its code is: a zip's presigned URL, SHA-256 (base64, as Lambda gives it) and size; an image and its digest. */
  code: {
    location?: string;
    sha256Base64?: string;
    size?: number;
    imageUri?: string;
    imageDigest: string | null;
  };
  /** DurableConfig: its steps checkpoint through Lambda's durable execution service. */
  durable: boolean;
  /** Lambda Managed Instances: how many invocations one environment may run at once (when it says). */
  managedInstances?: { maxConcurrency?: number };
}

/** The `<function>` argument's parts (lib/lambda-arn.ts reads every form Lambda takes), or UsageError (exit 2). */
export function functionRefOf(ref: string): FunctionRefParts {
  const parts = parseFunctionRef(ref);
  // An ARN without its region and account (Lambda's pattern lets one leave them out) names no function to ask for.
  if (parts === undefined || (parts.arn && parts.home === undefined))
    throw new UsageError(`not a Lambda function name or ARN: ${ref}`);
  return parts;
}

/** What GetFunction is asked for a reference: the reference less its qualifier, and the qualifier apart. */
export function getFunctionInput(target: FunctionRefParts): { FunctionName: string; Qualifier?: string } {
  const FunctionName = unqualifiedRef(target);
  return target.qualifier === undefined ? { FunctionName } : { FunctionName, Qualifier: target.qualifier };
}

export async function getFunction(
  lambda: LambdaClient,
  target: FunctionRefParts,
  ref: string,
): Promise<GetFunctionCommandOutput> {
  try {
    return await lambda.send(new GetFunctionCommand(getFunctionInput(target)));
  } catch (err) {
    throw describeAwsError(err, {
      what: `function ${ref}`,
      permission: 'lambda:GetFunction',
      notFound: 'function',
    });
  }
}

/** GetFunction's answer for `target`, asked for in `region` (the region of a bare name). */
export function describeFunction(
  out: GetFunctionCommandOutput,
  target: FunctionRefParts,
  region: string,
): DescribedFunction {
  const config: Configuration = out.Configuration ?? {};
  const name = config.FunctionName ?? target.name;
  const functionArn = unqualifiedArn(config.FunctionArn ?? unqualifiedRef(target));
  const invokedFunctionArn = target.qualifier ? `${functionArn}:${target.qualifier}` : functionArn;
  const basics: FunctionBasics = {
    handler: config.Handler ?? '',
    runtime: config.Runtime ?? '',
    functionName: name,
    functionVersion: config.Version ?? '$LATEST',
    invokedFunctionArn,
    memorySizeMb: config.MemorySize ?? 128,
    ...(config.Timeout ? { timeoutSeconds: config.Timeout } : {}),
    region: regionFromArn(functionArn) ?? region,
    ...(config.LoggingConfig ? { logging: loggingOf(config.LoggingConfig) } : {}),
    tenantIsolation: config.TenancyConfig?.TenantIsolationMode === 'PER_TENANT',
    ...(config.Role ? { role: config.Role } : {}),
  };
  const architecture = architectureOf(config.Architectures);
  const mi = config.CapacityProviderConfig?.LambdaManagedInstancesCapacityProviderConfig;
  const maxConcurrency = mi?.PerExecutionEnvironmentMaxConcurrency;
  return {
    basics,
    identity: {
      arn: invokedFunctionArn,
      version: basics.functionVersion,
      runtime: basics.runtime,
      handler: basics.handler,
      codeSha256: config.CodeSha256 ? sha256Hex(config.CodeSha256) : '',
      architecture,
    },
    environment: { ...(config.Environment?.Variables ?? {}) },
    architecture,
    layerArns: (config.Layers ?? []).flatMap((l) => (l.Arn ? [l.Arn] : [])),
    image: config.PackageType === 'Image',
    code: {
      ...(out.Code?.Location ? { location: out.Code.Location } : {}),
      ...(config.CodeSha256 ? { sha256Base64: config.CodeSha256 } : {}),
      ...(config.CodeSize ? { size: config.CodeSize } : {}),
      ...(out.Code?.ImageUri ? { imageUri: out.Code.ImageUri } : {}),
      imageDigest: out.Code?.ResolvedImageUri?.split('@')[1] ?? null,
    },
    durable: Boolean(config.DurableConfig),
    ...(mi ? { managedInstances: maxConcurrency === undefined ? {} : { maxConcurrency } } : {}),
  };
}

/**
 * GetFunction's CodeSha256 as hex: a zip function's is base64 of the digest, an image function's the digest in hex
 * already (the image manifest's, as `sha256:<hex>` in ResolvedImageUri).
 */
export function sha256Hex(value: string): string {
  if (/^[0-9a-f]{64}$/.test(value)) return value;
  return Buffer.from(value, 'base64').toString('hex');
}

function loggingOf(c: NonNullable<Configuration['LoggingConfig']>): FunctionLogging {
  return {
    format: c.LogFormat === 'JSON' ? 'JSON' : 'Text',
    ...(c.ApplicationLogLevel ? { applicationLogLevel: c.ApplicationLogLevel } : {}),
    ...(c.SystemLogLevel ? { systemLogLevel: c.SystemLogLevel } : {}),
    ...(c.LogGroup ? { logGroup: c.LogGroup } : {}),
  };
}
