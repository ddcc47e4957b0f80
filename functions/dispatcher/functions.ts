// The function a request names: qualified to a full ARN, checked against ALLOWED_FUNCTIONS, then looked up (cached per
// container).
import {
  type FunctionConfiguration,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  GetFunctionConfigurationCommand,
  type GetFunctionConfigurationCommandOutput,
  type LambdaClient,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { architectureOf } from '../../lib/architecture.js';
import { FunctionNotAllowedError, FunctionNotFoundError, InvalidRequestError } from '../../lib/errors.js';
import { globToRegExp } from '../../lib/glob.js';
import { type FunctionHome, functionArn, functionHome, requestedFunction } from '../../lib/lambda-arn.js';

/** The dispatcher's own partition, region and account (from its invoked ARN): what a bare name means. */
export type OwnAccount = FunctionHome;

/** A requested function as a full ARN, before anything is looked up. */
export interface QualifiedFunction {
  /** Unqualified ARN: `arn:<partition>:lambda:<region>:<account>:function:<name>`. */
  arn: string;
  name: string;
  /** The request's alias or version; `undefined` for unqualified and `$LATEST`. */
  qualifier: string | undefined;
  /** The ARN the job runs: `arn` plus the request's qualifier (none for `$LATEST`), so the runner resolves exactly this version. */
  jobArn: string;
}

/** What the lookup adds: the configuration the image and job definition are chosen from. */
export interface TargetFunction extends QualifiedFunction {
  /** e.g. `python3.13`; undefined for container-image functions. */
  runtime: string | undefined;
  packageType: string;
  /** `x86_64` or `arm64` (Configuration.Architectures; Lambda's default, x86_64, when it names none) */
  architecture: string;
  layerArns: string[];
  tags: Record<string, string>;
  /** For PackageType Image, when the lookup resolves images: what its two-container job is made from. */
  image?: FunctionImage;
}

/** An image function's image and the configuration its container runs with (as Lambda would give it). */
export interface FunctionImage {
  /** `Code.ResolvedImageUri`: the image by digest, never a tag that can move */
  resolved: string;
  /** `ImageConfigResponse.ImageConfig`: what the function overrides of the image's own config */
  command: string[] | undefined;
  entryPoint: string[] | undefined;
  workingDirectory: string | undefined;
  environment: Record<string, string>;
  /** the version the job runs (`$LATEST` or a number) */
  version: string;
  memorySize: number;
  /** `x86_64` or `arm64` */
  architecture: string;
  logging: { format?: string; applicationLogLevel?: string; logGroup?: string };
}

export type FunctionLookup = (ref: QualifiedFunction) => Promise<TargetFunction>;

/** What resolving a request's function takes: who the dispatcher is, what it may run, and its cached lookup. */
export interface ResolveOptions {
  /** The dispatcher's own account and region (what a bare function name means); unknown outside Lambda. */
  own: OwnAccount | undefined;
  /** ARN globs in force for this invocation (ALLOWED_FUNCTIONS or the own-account default). */
  allowed: string[];
  lookup: FunctionLookup;
}

/**
 * The function a request names, qualified to a full ARN, checked against the allow-list on that ARN before anything
 * is looked up (a function outside it is never asked about), then looked up.
 */
export async function resolveFunction(ref: string, options: ResolveOptions): Promise<TargetFunction> {
  const fn = qualifyFunction(ref, options.own);
  checkAllowed(fn, options.allowed);
  return options.lookup(fn);
}

const NOT_FOUND = new Set(['ResourceNotFoundException', 'NotFoundException']);

/** The dispatcher's own account from the ARN it was invoked as (`context.invokedFunctionArn`). */
export function ownAccountOf(invokedFunctionArn: string | undefined): OwnAccount | undefined {
  return functionHome(invokedFunctionArn);
}

/** The default allow-list: every function of the dispatcher's own account and region. */
export function ownAccountGlobs(invokedFunctionArn: string | undefined): string[] {
  const own = ownAccountOf(invokedFunctionArn);
  return own ? [functionArn(own, '*')] : [];
}

/**
 * The full ARN a reference means: a full ARN as it is; a bare name, `name:qualifier` or a partial ARN
 * (`<account>:function:<name>`) in the dispatcher's own partition and region (and account, when not given).
 */
export function qualifyFunction(ref: string, own: OwnAccount | undefined): QualifiedFunction {
  const parts = requestedFunction(ref);
  if (parts.arn && !parts.home)
    throw new InvalidRequestError(`lambda_function: is not a Lambda function ARN: ${ref}`);
  const { name } = parts;
  const qualifier = parts.qualifier === '$LATEST' ? undefined : parts.qualifier;
  let home = parts.home;
  if (!home) {
    const account = parts.account ?? own?.account;
    const region = parts.region ?? own?.region;
    if (!own || !account || !region)
      throw new FunctionNotAllowedError(
        `function ${ref} is not allowed: it is not a full ARN and the dispatcher's own account is unknown`,
      );
    home = { partition: own.partition, region, account };
  }
  const arn = functionArn(home, name);
  return { arn, name, qualifier, jobArn: functionArn(home, name, qualifier) };
}

/** Throws FunctionNotAllowedError unless the function (unqualified or as the job runs it) matches a glob. */
export function checkAllowed(fn: QualifiedFunction, globs: string[]): void {
  const candidates = [fn.arn, fn.jobArn];
  if (globs.some((g) => candidates.some((arn) => globToRegExp(g).test(arn)))) return;
  throw new FunctionNotAllowedError(
    globs.length === 0
      ? `function ${fn.jobArn} is not allowed: ALLOWED_FUNCTIONS is unset and the dispatcher's own account is unknown`
      : `function ${fn.jobArn} is not allowed by ALLOWED_FUNCTIONS (${globs.join(', ')})`,
  );
}

function lookupError(err: unknown, ref: QualifiedFunction): Error {
  const e = err as Error;
  if (NOT_FOUND.has(e.name))
    return new FunctionNotFoundError(`function ${ref.jobArn} not found: ${e.message}`, { cause: err });
  // The dispatcher's role only reaches the functions it may run, so a refusal means "not allowed".
  if (e.name === 'AccessDeniedException')
    return new FunctionNotAllowedError(`the dispatcher may not read function ${ref.jobArn}: ${e.message}`, {
      cause: err,
    });
  return e;
}

const nonEmpty = (v: string[] | undefined) => (v && v.length > 0 ? [...v] : undefined);

/** The job-relevant configuration of an image function, with the resolved image GetFunction gave. */
function imageOf(cfg: FunctionConfiguration, resolved: string): FunctionImage {
  const ic = cfg.ImageConfigResponse?.ImageConfig;
  const vars = cfg.Environment?.Variables ?? {};
  return {
    resolved,
    command: nonEmpty(ic?.Command),
    entryPoint: nonEmpty(ic?.EntryPoint),
    workingDirectory: ic?.WorkingDirectory || undefined,
    environment: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)])),
    version: cfg.Version ?? '$LATEST',
    memorySize: cfg.MemorySize ?? 128,
    architecture: architectureOf(cfg.Architectures),
    logging: {
      format: cfg.LoggingConfig?.LogFormat,
      applicationLogLevel: cfg.LoggingConfig?.ApplicationLogLevel,
      logGroup: cfg.LoggingConfig?.LogGroup,
    },
  };
}

/**
 * Lambda resolves the full ARN; an answer for another account or region is not the function asked for. The answer
 * is the function's ARN, or that ARN with a version or alias (a name holds no `:`).
 */
function checkAnswered(ref: QualifiedFunction, answeredArn: string | undefined): void {
  const answered = answeredArn ?? '';
  if (answered !== ref.arn && !answered.startsWith(`${ref.arn}:`))
    throw new FunctionNotFoundError(`function ${ref.jobArn} not found: Lambda answered with ${answered}`);
}

/**
 * An image function's image and settings, from one GetFunction answer (`Code.ResolvedImageUri` and the
 * `Configuration` beside it, so the digest and the settings it runs with are of one moment). Never cached: a digest
 * moves when the function's code is updated, and a job must run the image the function has when it is dispatched.
 */
async function resolveImage(lambda: LambdaClient, fn: TargetFunction): Promise<TargetFunction> {
  let out: GetFunctionCommandOutput;
  try {
    out = await lambda.send(new GetFunctionCommand({ FunctionName: fn.jobArn }));
  } catch (err) {
    throw lookupError(err, fn);
  }
  checkAnswered(fn, out.Configuration?.FunctionArn);
  const resolved = out.Code?.ResolvedImageUri;
  if (!resolved)
    throw new FunctionNotFoundError(
      `function ${fn.jobArn}: Lambda named no resolved image (Code.ResolvedImageUri)`,
    );
  return { ...fn, image: imageOf(out.Configuration!, resolved) };
}

/**
 * GetFunctionConfiguration (the version the job runs) and ListTags (tags live on the unqualified function)
 * with a cache: answers are kept `ttlMs`; failures are not cached, so a new function is seen at once.
 * GetFunction only for a function of PackageType Image, and only with `resolveImages` (image functions on), at every
 * lookup (resolveImage): its configuration does not name the image; GetFunction's `Code.ResolvedImageUri` does (for
 * an image function it holds no download URL). Never for a zip function: that would hand the dispatcher its code URL.
 */
export function createFunctionLookup(
  lambda: LambdaClient,
  ttlMs: number,
  now: () => number = Date.now,
  resolveImages = false,
): FunctionLookup {
  const cache = new Map<string, { until: number; value: Promise<TargetFunction> }>();
  const fetchOne = async (ref: QualifiedFunction): Promise<TargetFunction> => {
    let cfg: GetFunctionConfigurationCommandOutput;
    let tags: Record<string, string>;
    try {
      [cfg, tags] = await Promise.all([
        lambda.send(new GetFunctionConfigurationCommand({ FunctionName: ref.jobArn })),
        lambda.send(new ListTagsCommand({ Resource: ref.arn })).then((t) => t.Tags ?? {}),
      ]);
    } catch (err) {
      throw lookupError(err, ref);
    }
    checkAnswered(ref, cfg.FunctionArn);
    return {
      ...ref,
      runtime: cfg.Runtime,
      packageType: cfg.PackageType ?? 'Zip',
      architecture: architectureOf(cfg.Architectures),
      layerArns: (cfg.Layers ?? []).flatMap((l) => (l.Arn ? [l.Arn] : [])),
      tags,
    };
  };
  const cached = (ref: QualifiedFunction): Promise<TargetFunction> => {
    const t = now();
    const hit = cache.get(ref.jobArn);
    if (hit && hit.until > t) return hit.value;
    const value = fetchOne(ref);
    cache.set(ref.jobArn, { until: t + ttlMs, value });
    value.catch(() => cache.delete(ref.jobArn));
    return value;
  };
  return async (ref) => {
    const fn = await cached(ref);
    return fn.packageType === 'Image' && resolveImages ? resolveImage(lambda, fn) : fn;
  };
}
