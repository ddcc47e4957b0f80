// Reads the <function> argument: a name or ARN, optionally qualified with an alias or version.
import { regionFromArn } from '../../lib/aws-config.js';
import { UsageError } from '../errors.js';

export interface FunctionRef {
  /** Unqualified name or ARN, for GetFunction's FunctionName. */
  functionName: string;
  /** `$LATEST`, a version number or an alias, when the user gave one. */
  qualifier?: string;
  /** From the ARN, when it is one. */
  region?: string;
}

const NAME = /^[a-zA-Z0-9_-]{1,140}$/;
const QUALIFIER = /^(\$LATEST|[a-zA-Z0-9_-]{1,128})$/;
const ARN = /^(arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+)(?::([^:]+))?$/;
const PARTIAL = /^(\d{12}:function:[a-zA-Z0-9_-]+)(?::([^:]+))?$/;

export function parseFunctionRef(ref: string): FunctionRef {
  const m = ARN.exec(ref) ?? PARTIAL.exec(ref) ?? /^([^:]+)(?::([^:]+))?$/.exec(ref);
  const functionName = m?.[1];
  const qualifier = m?.[2];
  const bare = functionName && !functionName.includes(':');
  if (
    !functionName ||
    (bare && !NAME.test(functionName)) ||
    (qualifier !== undefined && !QUALIFIER.test(qualifier))
  ) {
    throw new UsageError(`not a Lambda function name or ARN: ${ref}`);
  }
  const region = regionFromArn(functionName);
  return { functionName, ...(qualifier ? { qualifier } : {}), ...(region ? { region } : {}) };
}

/** `arn:…:function:name` from an ARN that may carry a version or alias. */
export function unqualifiedArn(arn: string): string {
  return arn.split(':').slice(0, 7).join(':');
}

/** Lambda's architecture names for this host. */
export function hostArchitecture(arch: string = process.arch): string {
  return arch === 'x64' ? 'x86_64' : arch;
}
