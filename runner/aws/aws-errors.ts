// Turns AWS SDK errors from GetFunction / GetLayerVersion / AssumeRole into the runner's prepare errors (exit 3).
import { FunctionNotFoundError, FunctionPrepareError, RunnerError } from '../errors.js';

interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'ForbiddenException',
]);
const NOT_FOUND = new Set(['ResourceNotFoundException', 'NotFoundException']);

/**
 * `what` names the thing asked for ("function my-fn", "layer … of my-fn"); `permission` is the IAM action a
 * denial points at, so the operator knows what to add to the job role.
 */
export function describeAwsError(
  err: unknown,
  ctx: { what: string; permission: string; notFound?: 'function' | 'other' },
): RunnerError {
  if (err instanceof RunnerError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  if (NOT_FOUND.has(name) || status === 404) {
    const NotFound = ctx.notFound === 'function' ? FunctionNotFoundError : FunctionPrepareError;
    return new NotFound(`${ctx.what} was not found`, { cause: err });
  }
  if (DENIED.has(name) || status === 403) {
    return new FunctionPrepareError(
      `access to ${ctx.what} was denied: the job's role needs ${ctx.permission}`,
      {
        cause: err,
      },
    );
  }
  return new FunctionPrepareError(`could not get ${ctx.what}: ${name}: ${e.message ?? String(err)}`, {
    cause: err,
  });
}
