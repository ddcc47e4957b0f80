// The runner's options: one usage text, one parser; precedence is flag, then RUN_LAMBDA_<NAME> env twin, then default.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs as parseArgv } from 'node:util';
import { DEFAULT_IDLE_TIMEOUT_S, MAX_CONNECT_TIMEOUT_S } from '../lib/aws-config.js';
import { ConfigError, type Env, envBool, envString } from '../lib/env.js';
import { UsageError } from './errors.js';
import { isLogLevel, type LogLevel, LogLevels } from './log.js';
import { runtimeFamily } from './runtime/families.js';

export const Compat = { cirrusV0: 'cirrus-v0' } as const;
export type Compat = (typeof Compat)[keyof typeof Compat];

/** Everything a run needs, parsed and validated. */
export interface RunOptions {
  /** Lambda name/ARN, or a local folder or `.zip`. */
  functionRef: string;
  payloadUrl: string;
  /** Undefined: the default (DESIGN.md): `.json` → `_out.json` beside the payload, stdout for `data:`/`-`. */
  outputUrl?: string;
  handler?: string;
  runtime?: string;
  /** Seconds; undefined means no deadline is enforced. */
  timeoutSeconds?: number;
  /** Seconds a network connection may stay silent before it is abandoned and retried (DEFAULT_IDLE_TIMEOUT_S). */
  networkTimeoutSeconds: number;
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
  <output-url>   s3://bucket/key, file:///abs/path, a path, or - (stdout). Default: beside the
                 payload, .json replaced by _out.json; stdout when the payload is data: or -

Options (each also read from RUN_LAMBDA_<NAME>, e.g. RUN_LAMBDA_LOG_LEVEL; a flag wins):
  --handler <h>         handler, e.g. lambda_function.lambda_handler (local default: first found of
                        task.handler, feeder.handler, lambda_function.lambda_handler, index.handler)
  --runtime <r>         runtime, e.g. python3.12, nodejs20.x, provided.al2023 (local default: from the files)
  --timeout <s>         deadline in seconds, seen by the handler and enforced (exit 124); default none
  --network-timeout <s> seconds a connection to AWS may stay silent before it is retried (default ${DEFAULT_IDLE_TIMEOUT_S};
                        connecting may take at most ${MAX_CONNECT_TIMEOUT_S} s, or this when lower)
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

Exit codes: 0 ok, 1 function failed, 2 bad usage or input (also a payload or output that does not
exist or may not be used), 3 function could not be prepared, 4 payload/result I/O failed for a reason
a retry may not meet, 124 timed out, 128+N stopped by signal N.`;

const valueFlags = [
  'handler',
  'runtime',
  'timeout',
  'network-timeout',
  'cache-dir',
  'opt-dir',
  'compat',
  'log-level',
  'tenant-id',
  'client-context',
  'cognito-identity',
] as const;
type ValueFlag = (typeof valueFlags)[number];

const argvOptions = {
  ...Object.fromEntries(valueFlags.map((f) => [f, { type: 'string' as const }])),
  'no-cache': { type: 'boolean' as const },
  help: { type: 'boolean' as const, short: 'h' },
  version: { type: 'boolean' as const, short: 'V' },
};

const envName = (flag: string) => `RUN_LAMBDA_${flag.toUpperCase().replace(/-/g, '_')}`;

/**
 * Parses argv (without `node` and the script) with `env` for the twins. Throws UsageError. node:util's parser
 * splits the words; its own errors are not ours (they suggest `--`), so it runs lax and the tokens are judged
 * here, in argv order: the first of --help, --version or a bad option decides.
 */
export function parseArgs(argv: readonly string[], env: Env): ParsedArgs {
  const { tokens } = parseArgv({
    args: [...argv],
    options: argvOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags = new Map<string, string>();
  let noCache: boolean | undefined;
  const positional: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positional.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const word = argv[token.index] as string;
    // `-abc` is one unknown word to us, not the short flags -a -b -c (`-handler` is not `-h`).
    if (!word.startsWith('--') && word.length > 2) throw new UsageError(`unknown option ${word}`);
    if (token.name === 'help') return { kind: 'help' };
    if (token.name === 'version') return { kind: 'version' };
    if (token.name === 'no-cache') {
      if (token.inlineValue) throw new UsageError('option --no-cache takes no value');
      noCache = true;
      continue;
    }
    if (!(valueFlags as readonly string[]).includes(token.name) || !token.rawName.startsWith('--')) {
      throw new UsageError(`unknown option ${token.rawName}`);
    }
    if (token.value === undefined || token.value === '') {
      throw new UsageError(`option --${token.name} needs a value`);
    }
    flags.set(token.name, token.value);
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
      runtime: parseRuntime(pick('runtime')),
      timeoutSeconds: parseSeconds('--timeout', pick('timeout')),
      networkTimeoutSeconds:
        parseSeconds('--network-timeout', pick('network-timeout')) ?? DEFAULT_IDLE_TIMEOUT_S,
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

/**
 * Longest accepted duration (about 31 years): finite, and far past any job. Timers longer than Node's
 * 2^31-1 ms are chained (runner/runtime/long-timer.ts), so every value up to this one means what it says.
 */
export const MAX_SECONDS = 1_000_000_000;

function parseSeconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0) || n > MAX_SECONDS) {
    throw new UsageError(
      `${flag} must be a positive number of seconds up to ${MAX_SECONDS}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/** A --runtime that is no Lambda runtime is a usage error here, before anything runs. */
function parseRuntime(v: string | undefined): string | undefined {
  if (v !== undefined) runtimeFamily(v);
  return v;
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
