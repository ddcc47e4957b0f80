// The runner's options: one usage text, one parser; precedence is flag, then RUN_LAMBDA_<NAME> env twin, then default.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, type Env, envBool, envString } from '../lib/env.js';
import { UsageError } from './errors.js';
import { isLogLevel, type LogLevel, LogLevels } from './log.js';

export const Compat = { cirrusV0: 'cirrus-v0' } as const;
export type Compat = (typeof Compat)[keyof typeof Compat];

/** Everything a run needs, parsed and validated. */
export interface RunOptions {
  /** Lambda name/ARN, or a local folder or `.zip`. */
  functionRef: string;
  payloadUrl: string;
  /** Undefined: the default (DESIGN.md): the payload URL, stdout for `data:`/`-`, `_out.json` in compat mode. */
  outputUrl?: string;
  handler?: string;
  runtime?: string;
  /** Seconds; undefined means no deadline is enforced. */
  timeoutSeconds?: number;
  cacheDir: string;
  useCache: boolean;
  optDir: string;
  compat?: Compat;
  logLevel: LogLevel;
  /** `Lambda-Runtime-Aws-Tenant-Id` for a function with tenant isolation. */
  tenantId?: string;
  /** `Lambda-Runtime-Client-Context`: one line of JSON. */
  clientContext?: string;
  /** `Lambda-Runtime-Cognito-Identity`: one line of JSON. */
  cognitoIdentity?: string;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: RunOptions };

export const USAGE = `Usage: run-lambda [options] <function> <payload-url> [<output-url>]

Runs one invocation of an AWS Lambda function here, through the Lambda Runtime API.

  <function>     a Lambda function name or ARN (optionally :alias or :version),
                 or a local folder or .zip of function code
  <payload-url>  s3://bucket/key, file:///abs/path, a path, data:application/json;base64,..., or - (stdin)
  <output-url>   s3://bucket/key, file:///abs/path, a path, or - (stdout).
                 Default: the payload URL; stdout when the payload is data: or -

Options (each also read from RUN_LAMBDA_<NAME>, e.g. RUN_LAMBDA_LOG_LEVEL; a flag wins):
  --handler <h>         handler, e.g. lambda_function.lambda_handler (local default: first found of
                        task.handler, feeder.handler, lambda_function.lambda_handler, index.handler)
  --runtime <r>         runtime, e.g. python3.12, nodejs20.x, provided.al2023 (local default: from the files)
  --timeout <s>         deadline in seconds, seen by the handler and enforced (exit 124); default none
  --cache-dir <dir>     cache for function code and runtime clients
                        (default $XDG_CACHE_HOME/run-lambda or ~/.cache/run-lambda)
  --no-cache            do not read or write the cache
  --opt-dir <dir>       where layers are extracted (Lambda's /opt; default /opt)
  --compat cirrus-v0    behave as cirrusgeo/run-lambda 0.2: handler(event), output to <payload>_out.json
  --log-level <level>   ${LogLevels.join(', ')} (default info)
  --tenant-id <id>      the tenant of this invocation (required for a function with tenant isolation)
  --client-context <j>  the client context the handler sees: JSON, or base64 JSON as Invoke takes it
  --cognito-identity <j>  the Cognito identity the handler sees, as JSON
  --help                show this text
  --version             show the version

Exit codes: 0 ok, 1 function failed, 2 bad usage or input, 3 function could not be prepared,
4 payload/result I/O failed, 124 timed out, 128+N stopped by signal N.`;

type ValueFlag =
  | 'handler'
  | 'runtime'
  | 'timeout'
  | 'cache-dir'
  | 'opt-dir'
  | 'compat'
  | 'log-level'
  | 'tenant-id'
  | 'client-context'
  | 'cognito-identity';
const valueFlags: readonly ValueFlag[] = [
  'handler',
  'runtime',
  'timeout',
  'cache-dir',
  'opt-dir',
  'compat',
  'log-level',
  'tenant-id',
  'client-context',
  'cognito-identity',
];

const envName = (flag: string) => `RUN_LAMBDA_${flag.toUpperCase().replace(/-/g, '_')}`;

/** Parses argv (without `node` and the script) with `env` for the twins. Throws UsageError. */
export function parseArgs(argv: readonly string[], env: Env): ParsedArgs {
  const flags = new Map<string, string>();
  let noCache: boolean | undefined;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-V') return { kind: 'version' };
    if (arg === '--no-cache') {
      noCache = true;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      if (!arg.startsWith('--') || !(valueFlags as readonly string[]).includes(name)) {
        throw new UsageError(`unknown option ${eq === -1 ? arg : arg.slice(0, eq)}`);
      }
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new UsageError(`option --${name} needs a value`);
      flags.set(name, value);
      continue;
    }
    positional.push(arg);
  }
  if (positional.length < 2) {
    throw new UsageError(
      positional.length === 0 ? 'missing <function> and <payload-url>' : 'missing <payload-url>',
    );
  }
  if (positional.length > 3) throw new UsageError(`too many arguments: ${positional.slice(3).join(' ')}`);
  const [functionRef, payloadUrl, outputUrl] = positional as [string, string, string | undefined];
  if (!functionRef) throw new UsageError('<function> is empty');
  if (!payloadUrl) throw new UsageError('<payload-url> is empty');

  const pick = (flag: ValueFlag): string | undefined => flags.get(flag) ?? envString(env, envName(flag));
  try {
    const options: RunOptions = {
      functionRef,
      payloadUrl,
      outputUrl: outputUrl || undefined,
      handler: pick('handler'),
      runtime: pick('runtime'),
      timeoutSeconds: parseTimeout(pick('timeout')),
      // Absolute, so that the runtime (started in the task root) sees the same folders.
      cacheDir: resolve(pick('cache-dir') ?? defaultCacheDir(env)),
      useCache: !(noCache ?? envBool(env, envName('no-cache'), false)),
      optDir: resolve(pick('opt-dir') ?? '/opt'),
      compat: parseCompat(pick('compat')),
      logLevel: parseLogLevel(pick('log-level') ?? 'info'),
      tenantId: parseTenantId(pick('tenant-id')),
      clientContext: parseJsonObject('--client-context', pick('client-context'), true),
      cognitoIdentity: parseJsonObject('--cognito-identity', pick('cognito-identity'), false),
    };
    return { kind: 'run', options };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

function parseTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) {
    throw new UsageError(`--timeout must be a positive number of seconds, got ${JSON.stringify(v)}`);
  }
  return n;
}

function parseCompat(v: string | undefined): Compat | undefined {
  if (v === undefined) return undefined;
  if (v !== Compat.cirrusV0)
    throw new UsageError(`--compat must be ${Compat.cirrusV0}, got ${JSON.stringify(v)}`);
  return v;
}

function parseLogLevel(v: string): LogLevel {
  if (!isLogLevel(v))
    throw new UsageError(`--log-level must be one of ${LogLevels.join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}

/** Lambda's TenantId: 1 to 256 characters of letters, digits and `._:/=+-@` or space. */
function parseTenantId(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[a-zA-Z0-9._:/=+\-@ ]{1,256}$/.test(v)) {
    throw new UsageError('--tenant-id must be 1 to 256 letters, digits, spaces or ._:/=+-@ characters');
  }
  return v;
}

/** Lambda caps the client context at 3583 bytes (as base64). */
const CLIENT_CONTEXT_MAX = 3583;

/**
 * A JSON object as one header-safe line (non-ASCII escaped); `base64` also takes it base64-encoded, as
 * Invoke's ClientContext is. The value is not quoted back in errors: it may hold secrets.
 */
function parseJsonObject(flag: string, v: string | undefined, base64: boolean): string | undefined {
  if (v === undefined) return undefined;
  let text = v.trim();
  if (base64 && !text.startsWith('{') && /^[A-Za-z0-9+/=\s]+$/.test(text)) {
    text = Buffer.from(text, 'base64').toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} must be a JSON object${base64 ? ' (or one in base64)' : ''}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `${flag} must be a JSON object, not ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  }
  const line = JSON.stringify(parsed).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (base64 && Buffer.byteLength(Buffer.from(line).toString('base64')) > CLIENT_CONTEXT_MAX) {
    throw new UsageError(`${flag} is larger than Lambda's ${CLIENT_CONTEXT_MAX} bytes (base64)`);
  }
  return line;
}

export function defaultCacheDir(env: Env): string {
  const xdg = envString(env, 'XDG_CACHE_HOME');
  if (xdg) return join(xdg, 'run-lambda');
  return join(envString(env, 'HOME') ?? homedir(), '.cache', 'run-lambda');
}
