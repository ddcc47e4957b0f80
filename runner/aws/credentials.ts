// The credentials a deployed function's runtime and extensions get, as Lambda gives them: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in their environment (some extensions require them: the Parameters and
// Secrets extension authenticates its callers with the session token). By default the job role's, resolved through the
// same chain as the runner's own SDK clients (in Batch: the container credentials endpoint). With
// --assume-function-role, the function's own execution role (GetFunction's Configuration.Role), assumed by the job role
// through STS, so that the function keeps exactly its Lambda permissions. The STS client is evaluated only then.
import {
  FALLBACK_REGION,
  type NetworkTimeouts,
  regionFromEnv,
  sdkClientConfig,
} from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { FunctionPrepareError } from '../errors.js';
import type { FunctionCredentials, PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import { describeAwsError } from './aws-errors.js';
import { lambdaClient } from './sdk-clients.js';

/**
 * What the runner asks of STS: one hour. The job role's credentials are themselves a role session, so assuming the
 * function's role from them is role chaining, which AWS caps at one hour ("The requested DurationSeconds exceeds the 1
 * hour session limit for roles assumed by role chaining"); the role's own maximum can only lower it.
 */
export const FUNCTION_ROLE_SESSION_SECONDS = 3600;

export interface CredentialDeps {
  env: Env;
  log: Logger;
  timeouts: NetworkTimeouts;
  /** --assume-function-role */
  assumeFunctionRole: boolean;
}

/** The credentials `fn`'s processes get; throws FunctionPrepareError (exit 3) when they cannot be had. */
export async function functionCredentials(
  fn: PreparedFunction,
  deps: CredentialDeps,
): Promise<FunctionCredentials> {
  const region = fn.region ?? regionFromEnv(deps.env) ?? FALLBACK_REGION;
  if (deps.assumeFunctionRole) return assumeFunctionRole(fn, region, deps);
  let c: Awaited<ReturnType<NonNullable<ReturnType<typeof lambdaClient>['config']['credentials']>>>;
  try {
    c = await lambdaClient(deps.env, region, deps.timeouts).config.credentials();
  } catch (err) {
    throw new FunctionPrepareError(
      `cannot resolve the job's credentials for the function: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const creds: FunctionCredentials = {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    ...(c.expiration ? { expiration: c.expiration } : {}),
    whose: "the job role's",
  };
  deps.log.debug(`the function gets ${creds.whose} credentials${until(creds)}`);
  return creds;
}

async function assumeFunctionRole(fn: PreparedFunction, region: string, deps: CredentialDeps) {
  const role = fn.role;
  if (!role)
    throw new FunctionPrepareError(
      `--assume-function-role: ${fn.functionName} has no execution role to assume`,
    );
  // Imported only here: in the bundle its modules are evaluated on this first use, never by a run that assumes no role.
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient(sdkClientConfig(deps.env, 'sts', { region, timeouts: deps.timeouts }));
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: role,
        // [\w+=,.@-]{2,64}: a CloudTrail reader sees which function the session ran.
        RoleSessionName: `run-lambda-${fn.functionName}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64),
        DurationSeconds: FUNCTION_ROLE_SESSION_SECONDS,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS answered without credentials');
    const creds: FunctionCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
      whose: `its execution role ${role}`,
    };
    deps.log.info(`the function runs with ${creds.whose}${until(creds)}`);
    return creds;
  } catch (err) {
    throw describeAwsError(err, {
      what: `the role ${role}`,
      permission: `sts:AssumeRole on ${role}, and the role must trust the job role (docs/extensions.md)`,
    });
  } finally {
    sts.destroy();
  }
}

const until = (c: FunctionCredentials) => (c.expiration ? `, valid until ${c.expiration.toISOString()}` : '');
