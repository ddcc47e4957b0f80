// Client settings shared by every AWS SDK client the project makes (no SDK import here: it stays cheap to load).
import { ConfigError, type Env, envInt, envString } from './env.js';

export type AwsService = 's3' | 'lambda' | 'batch' | 'logs' | 'sts';

/** Each service's part of `AWS_ENDPOINT_URL_<SERVICE>`: its SDK service id, upper case, spaces as `_`. */
const ENDPOINT_NAMES: Record<AwsService, string> = {
  s3: 'S3',
  lambda: 'LAMBDA',
  batch: 'BATCH',
  logs: 'CLOUDWATCH_LOGS',
  sts: 'STS',
};

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1|\d+\.\d+\.\d+\.\d+)$/;

/**
 * The endpoint the SDK will use for `service`, from the standard `AWS_ENDPOINT_URL_<SERVICE>` and
 * `AWS_ENDPOINT_URL` variables (the SDK reads them itself; we only need it to choose S3 addressing).
 */
export function endpointFor(env: Env, service: AwsService): string | undefined {
  return envString(env, `AWS_ENDPOINT_URL_${ENDPOINT_NAMES[service]}`) ?? envString(env, 'AWS_ENDPOINT_URL');
}

/** True when the endpoint is a local emulator or an IP address, where virtual-hosted S3 names cannot resolve. */
export function isLocalEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    return LOCAL_HOST.test(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/** Extra constructor options for an SDK client of `service`. */
export function awsClientConfig(env: Env, service: AwsService): { forcePathStyle?: boolean } {
  if (service === 's3' && isLocalEndpoint(endpointFor(env, 's3'))) return { forcePathStyle: true };
  return {};
}

/**
 * The region a bare function name, an S3 bucket lookup or a local run uses when nothing more specific names
 * one: what the SDKs themselves fall back to for S3.
 */
export const FALLBACK_REGION = 'us-east-1';

/** The region the environment names: `AWS_REGION`, else `AWS_DEFAULT_REGION` (the CLI's and boto3's name). */
export function regionFromEnv(env: Env): string | undefined {
  return envString(env, 'AWS_REGION') ?? envString(env, 'AWS_DEFAULT_REGION');
}

export interface EnvCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Static credentials from the standard variables, when both key parts are set; otherwise undefined and the
 * SDK's own chain (container role, instance profile, SSO…) applies. Passed explicitly so that the env object
 * handed to the code is its one source, as it is for the endpoint.
 */
export function credentialsFromEnv(env: Env): EnvCredentials | undefined {
  const accessKeyId = envString(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = envString(env, 'AWS_SECRET_ACCESS_KEY');
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = envString(env, 'AWS_SESSION_TOKEN');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * How long a connection may take to open and how long an open one may stay silent (no byte either way)
 * before the request is abandoned as a transient failure and retried. Without them the SDK and Node wait
 * forever: a stalled GetObject held a Batch job until its attempt timeout.
 */
export interface NetworkTimeouts {
  connectMs: number;
  idleMs: number;
}

/** Default idle timeout: far above any healthy pause of S3 or Lambda, far below a Batch attempt. */
export const DEFAULT_IDLE_TIMEOUT_S = 60;
/** Connecting never takes longer than this on a healthy network (the idle timeout when that is lower). */
export const MAX_CONNECT_TIMEOUT_S = 10;

/** The timeouts for an idle timeout of `idleSeconds`. */
export function networkTimeouts(idleSeconds: number = DEFAULT_IDLE_TIMEOUT_S): NetworkTimeouts {
  const idleMs = Math.max(1, Math.round(idleSeconds * 1000));
  return { idleMs, connectMs: Math.min(idleMs, MAX_CONNECT_TIMEOUT_S * 1000) };
}

/** The idle timeout of the project's Lambda functions (dispatcher, post-batch) unless NETWORK_TIMEOUT says otherwise. */
export const FUNCTION_IDLE_TIMEOUT_S = 10;

/**
 * A Lambda function's timeouts from `NETWORK_TIMEOUT` (whole seconds of silence, 1 to 900, Lambda's longest run):
 * a call that stalls fails in time for the function to say so, instead of the invocation timing out.
 */
export function networkTimeoutsFromEnv(env: Env): NetworkTimeouts {
  const seconds = envInt(env, 'NETWORK_TIMEOUT', FUNCTION_IDLE_TIMEOUT_S);
  if (seconds < 1 || seconds > 900)
    throw new ConfigError(`NETWORK_TIMEOUT must be from 1 to 900 seconds, got ${seconds}`);
  return networkTimeouts(seconds);
}

/** The SDK clients' `requestHandler` options for these timeouts (NodeHttpHandler's, without importing it). */
export function requestHandlerOptions(t: NetworkTimeouts): {
  connectionTimeout: number;
  socketTimeout: number;
} {
  return { connectionTimeout: t.connectMs, socketTimeout: t.idleMs };
}

/** Connection limits for a client whose calls may rightly stay silent a long time (a synchronous Invoke). */
export interface ConnectTimeout {
  connectMs: number;
}

/** What an SDK client of `service` is constructed with; plain data, so no SDK is imported here. */
export interface SdkClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: EnvCredentials;
  forcePathStyle?: boolean;
  requestHandler?: { connectionTimeout: number; socketTimeout?: number };
}

/**
 * The SDK reads AWS_ENDPOINT_URL[_<SERVICE>], the region and the credential variables from process.env by itself;
 * they are passed from `env` explicitly so the env object is the one source (in a Lambda or a spawned runner the
 * two are the same thing, so nothing changes there). `region` wins over the env's; `timeouts` bound connecting and
 * silence (NetworkTimeouts), or connecting alone (ConnectTimeout); without them the SDK waits forever.
 */
export function sdkClientConfig(
  env: Env,
  service: AwsService,
  opts: { region?: string; timeouts?: NetworkTimeouts | ConnectTimeout } = {},
): SdkClientConfig {
  const config: SdkClientConfig = { ...awsClientConfig(env, service) };
  const region = opts.region ?? regionFromEnv(env);
  if (region) config.region = region;
  const endpoint = endpointFor(env, service);
  if (endpoint) config.endpoint = endpoint;
  const credentials = credentialsFromEnv(env);
  if (credentials) config.credentials = credentials;
  const t = opts.timeouts;
  if (t) {
    config.requestHandler =
      'idleMs' in t ? requestHandlerOptions(t) : { connectionTimeout: Math.max(1, Math.round(t.connectMs)) };
  }
  return config;
}
