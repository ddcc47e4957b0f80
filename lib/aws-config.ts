// Client settings shared by every AWS SDK client the project makes (no SDK import here: it stays cheap to load).
import { type Env, envString } from './env.js';

export type AwsService = 's3' | 'lambda' | 'batch';

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1|\d+\.\d+\.\d+\.\d+)$/;

/**
 * The endpoint the SDK will use for `service`, from the standard `AWS_ENDPOINT_URL_<SERVICE>` and
 * `AWS_ENDPOINT_URL` variables (the SDK reads them itself; we only need it to choose S3 addressing).
 */
export function endpointFor(env: Env, service: AwsService): string | undefined {
  return envString(env, `AWS_ENDPOINT_URL_${service.toUpperCase()}`) ?? envString(env, 'AWS_ENDPOINT_URL');
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

/** The region from a Lambda ARN (`arn:aws:lambda:<region>:…`), or undefined for a bare name. */
export function regionFromArn(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:lambda:([a-z0-9-]+):/.exec(arn);
  return m?.[1];
}
