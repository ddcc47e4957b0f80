// The target function: looked up once (GetFunction, cached per container) and checked against ALLOWED_FUNCTIONS.
import { GetFunctionCommand, type GetFunctionCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { FunctionNotAllowedError, FunctionNotFoundError } from '../../lib/errors.js';
import { functionParts } from '../../lib/request.js';

export interface TargetFunction {
  /** Unqualified ARN as Lambda reports it. */
  arn: string;
  name: string;
  /** The request's alias or version; `undefined` for unqualified and `$LATEST`. */
  qualifier: string | undefined;
  /** The ARN the job runs: `arn` plus the request's qualifier (none for `$LATEST`), so the runner resolves exactly this version. */
  jobArn: string;
  layerArns: string[];
  tags: Record<string, string>;
}

export type FunctionLookup = (ref: string) => Promise<TargetFunction>;

const NOT_FOUND = new Set(['ResourceNotFoundException', 'NotFoundException']);

function unqualified(arn: string): string {
  return arn.split(':').slice(0, 7).join(':');
}

/** GetFunction with a cache: answers are kept `ttlMs`; failures are not cached, so a new function is seen at once. */
export function createFunctionLookup(
  lambda: LambdaClient,
  ttlMs: number,
  now: () => number = Date.now,
): FunctionLookup {
  const cache = new Map<string, { until: number; value: Promise<TargetFunction> }>();
  const fetchOne = async (ref: string): Promise<TargetFunction> => {
    const parts = functionParts(ref);
    // An unqualified reference means $LATEST in Lambda; dropping it keeps `$` out of the URL path, which
    // some endpoints (moto) do not route, and gives the runner the plain ARN.
    const qualifier = parts.qualifier === '$LATEST' ? undefined : parts.qualifier;
    const lookupRef = parts.qualifier === '$LATEST' ? ref.slice(0, -':$LATEST'.length) : ref;
    let out: GetFunctionCommandOutput;
    try {
      out = await lambda.send(new GetFunctionCommand({ FunctionName: lookupRef }));
    } catch (err) {
      if (NOT_FOUND.has((err as Error).name))
        throw new FunctionNotFoundError(`function ${ref} not found: ${(err as Error).message}`, {
          cause: err,
        });
      // The dispatcher's role only reaches the functions it may run, so a refusal means "not allowed".
      if ((err as Error).name === 'AccessDeniedException')
        throw new FunctionNotAllowedError(
          `the dispatcher may not read function ${ref}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      throw err;
    }
    const cfg = out.Configuration;
    const arn = unqualified(cfg?.FunctionArn ?? ref);
    return {
      arn,
      name: parts.name,
      qualifier,
      jobArn: qualifier === undefined ? arn : `${arn}:${qualifier}`,
      layerArns: (cfg?.Layers ?? []).flatMap((l) => (l.Arn ? [l.Arn] : [])),
      tags: out.Tags ?? {},
    };
  };
  return (ref) => {
    const t = now();
    const hit = cache.get(ref);
    if (hit && hit.until > t) return hit.value;
    const value = fetchOne(ref);
    cache.set(ref, { until: t + ttlMs, value });
    value.catch(() => cache.delete(ref));
    return value;
  };
}

/** `*` matches any run of characters, `?` one; everything else literally; the whole ARN must match. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`);
}

/** The default allow-list: every function of the dispatcher's own account and region. */
export function ownAccountGlobs(invokedFunctionArn: string | undefined): string[] {
  const parts = (invokedFunctionArn ?? '').split(':');
  if (parts.length < 7 || parts[2] !== 'lambda') return [];
  return [`${parts.slice(0, 5).join(':')}:function:*`];
}

/** Throws FunctionNotAllowedError unless the function (unqualified or as the job runs it) matches a glob. */
export function checkAllowed(fn: TargetFunction, globs: string[]): void {
  const candidates = [fn.arn, fn.jobArn];
  if (globs.some((g) => candidates.some((arn) => globToRegExp(g).test(arn)))) return;
  throw new FunctionNotAllowedError(
    globs.length === 0
      ? `function ${fn.jobArn} is not allowed: ALLOWED_FUNCTIONS is unset and the dispatcher's own account is unknown`
      : `function ${fn.jobArn} is not allowed by ALLOWED_FUNCTIONS (${globs.join(', ')})`,
  );
}
