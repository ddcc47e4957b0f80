// Lambda function names, references and ARNs, held to Lambda's own limits: a function name is 1-64 letters, digits,
// `-` or `_`; a qualifier is `$LATEST`, a version (digits) or an alias (1-128 of the name's characters); a reference
// (a name, a partial or a full ARN, each with an optional qualifier) is at most 170 characters. Every reader of a
// function reference or a Lambda ARN (a function's, a layer version's) in lib/, functions/ and runner/ goes through
// this module.
import { InvalidRequestError } from './errors.js';

/** A function name: what every payload key's second segment is. */
export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** The longest reference Lambda takes: a full ARN with its qualifier. */
export const MAX_FUNCTION_REF_LENGTH = 170;

const PARTITION = 'aws[a-zA-Z-]*';
const REGION = '[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d';
// Lambda's FunctionName forms: [arn:<partition>:lambda:][<region>:][<account>:][function:]<name>[:<qualifier>].
const REFERENCE = new RegExp(
  `^(?:arn:(${PARTITION}):lambda:)?(?:(${REGION}):)?(?:(\\d{12}):)?(function:)?([a-zA-Z0-9_-]{1,64})(?::(\\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`,
);
// The head of any Lambda ARN (a function's, a layer's): partition, region and account.
const ARN_HEAD = /^arn:(aws[a-zA-Z-]*):lambda:([a-z0-9-]+):(?:(\d{12}):)?/;

/** Where a function lives: what a full ARN names before `function:`. */
export interface FunctionHome {
  partition: string;
  region: string;
  account: string;
}

/** A function reference's parts, as far as it gives them. */
export interface FunctionRefParts {
  name: string;
  /** `$LATEST`, a version or an alias; undefined when the reference has none. */
  qualifier?: string;
  /** Whether it starts with `arn:` (then only a full ARN is meaningful). */
  arn: boolean;
  /** Present when the reference is a full ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`). */
  home?: FunctionHome;
  /** The region and account of a partial ARN (`[<region>:]<account>:function:<name>`), when it names them. */
  region?: string;
  account?: string;
}

/** The parts of a function reference in any form Lambda takes, or undefined when it is none of them. */
export function parseFunctionRef(ref: string): FunctionRefParts | undefined {
  if (ref.length > MAX_FUNCTION_REF_LENGTH) return undefined;
  const m = REFERENCE.exec(ref);
  if (!m) return undefined;
  const [, partition, region, account, fn, name, qualifier] = m;
  const parts: FunctionRefParts = { name: name!, arn: partition !== undefined };
  if (qualifier !== undefined) parts.qualifier = qualifier;
  if (partition !== undefined && region !== undefined && account !== undefined && fn !== undefined)
    parts.home = { partition, region, account };
  if (region !== undefined) parts.region = region;
  if (account !== undefined) parts.account = account;
  return parts;
}

/** The parts of the function a request names (`lambda_function`), or InvalidRequestError naming that field. */
export function requestedFunction(ref: string): FunctionRefParts {
  const parts = parseFunctionRef(ref);
  if (parts) return parts;
  const shown = JSON.stringify(ref.length > 80 ? `${ref.slice(0, 77)}...` : ref);
  throw new InvalidRequestError(`lambda_function: is not a Lambda function name or ARN: ${shown}`);
}

/** The bare name and qualifier of the function a request names (`qualifier` undefined when it has none). */
export function functionParts(ref: string): { name: string; qualifier?: string } {
  const { name, qualifier } = requestedFunction(ref);
  return qualifier === undefined ? { name } : { name, qualifier };
}

/** `arn:<partition>:lambda:<region>:<account>:function:<name>`, with `:<qualifier>` when one is given. */
export function functionArn(home: FunctionHome, name: string, qualifier?: string): string {
  const arn = `arn:${home.partition}:lambda:${home.region}:${home.account}:function:${name}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

/**
 * A reference less its qualifier, as GetFunction's FunctionName takes it: the full ARN, `[<region>:]<account>:function:
 * <name>` of a partial one, else the name (a region given alone is the caller's to ask in).
 */
export function unqualifiedRef(parts: FunctionRefParts): string {
  if (parts.home) return functionArn(parts.home, parts.name);
  if (parts.account === undefined) return parts.name;
  return `${parts.region === undefined ? '' : `${parts.region}:`}${parts.account}:function:${parts.name}`;
}

/** `arn:…:function:<name>` of an ARN that may carry a version or an alias. */
export function unqualifiedArn(arn: string): string {
  return arn.split(':').slice(0, 7).join(':');
}

/** Where the function of a full function ARN lives (the dispatcher's own, from its invoked ARN); else undefined. */
export function functionHome(arn: string | undefined): FunctionHome | undefined {
  const m = ARN_HEAD.exec(arn ?? '');
  if (!m || m[3] === undefined || !arn!.slice(m[0].length).startsWith('function:')) return undefined;
  return { partition: m[1]!, region: m[2]!, account: m[3] };
}

/** The region of any Lambda ARN (`arn:aws:lambda:<region>:…`, a function's or a layer's), or undefined for a bare name. */
export function regionFromArn(arn: string): string | undefined {
  return ARN_HEAD.exec(arn)?.[2];
}

// A layer version's ARN: `arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>`.
const LAYER_VERSION = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]{1,140}):(\d+)$/;

/** A layer version ARN's layer (its ARN without the version: GetLayerVersion's LayerName) and version; else undefined. */
export function parseLayerVersionArn(arn: string): { layerArn: string; version: number } | undefined {
  const m = LAYER_VERSION.exec(arn);
  return m ? { layerArn: m[1]!, version: Number(m[2]) } : undefined;
}
