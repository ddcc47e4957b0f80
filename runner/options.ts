// The runner's options: one parser; precedence is flag, then its env twin, then default (twinOf says which variable).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs as parseArgv } from 'node:util';
import { DEFAULT_IDLE_TIMEOUT_S } from '../lib/aws-config.js';
import { ConfigError, type Env, envBool, envString } from '../lib/env.js';
import { isItemSetUrl } from '../lib/item-set.js';
import { RUN_LAMBDA_IMAGE_RUNTIME, RUNNER_ENV_PREFIX } from '../lib/job-plan.js';
import { type JobSettingsText, JobSettingVariables, jobSettingsFromEnv } from '../lib/job-wire.js';
import { UsageError } from './errors.js';
import { DEFAULT_EXTENSION_TIMEOUT_S } from './extensions/events.js';
import type { LogLevel } from './log.js';
import {
  type BatchContext,
  type Compat,
  type ItemSetOptions,
  parseAddress,
  parseBatchContext,
  parseCompat,
  parseItemSet,
  parseJsonObject,
  parseLogLevel,
  parseRedriveOf,
  parseRuntime,
  parseSeconds,
  parseTenantId,
} from './option-values.js';
import { DEFAULT_INIT_TIMEOUT_S } from './runtime/external.js';
import { DEFAULT_EXTERNAL_RUNTIME_API } from './usage.js';

export type { BatchContext, ItemSetOptions } from './option-values.js';
export { Compat } from './option-values.js';
export { USAGE } from './usage.js';

/** Everything a run needs, parsed and validated. */
export interface RunOptions {
  /** Lambda name/ARN, or a local folder or `.zip`. */
  functionRef: string;
  payloadUrl: string;
  /** Undefined: the default (docs/runner.md "Usage"): `.json` → `_out.json` beside the payload, stdout for `data:`/`-`. */
  outputUrl?: string;
  handler?: string;
  runtime?: string;
  /** Seconds each invocation (each item) may run; undefined means none of its own. */
  timeoutSeconds?: number;
  /**
   * Seconds the whole run may take (--job-timeout, Batch's attempt duration): every invocation's deadline is at most
   * its end, less the room kept to write the result and the record (runtime/deadline.ts).
   */
  jobTimeoutSeconds?: number;
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
  /** Where the run record goes instead of beside the result (the only way to have one for stdout). */
  recordUrl?: string;
  /** The payload URL is an item set (ends in `/`): the items this child runs. */
  items?: ItemSetOptions;
  /** --ignore-architecture: run a function built for another machine's architecture, with a warning. */
  ignoreArchitecture: boolean;
  /** --external-runtime: no runtime is started; one elsewhere connects to `host:port`. */
  externalRuntime?: { host: string; port: number; initTimeoutSeconds: number };
  /** The Batch job this run is (AWS_BATCH_JOB_ID and friends), for the run record. */
  batch?: BatchContext;
  /** RUN_LAMBDA_REDRIVE_OF: the job this run redrives, for the run record's `redrive_of`. */
  redriveOf?: string;
  /**
   * AWS_BATCH_JOB_ATTEMPT is 1: no earlier attempt of this job can have finished an item, so an item set's child
   * looks for none (one request less per item).
   */
  firstAttempt: boolean;
  /** RUN_LAMBDA_IMAGE_RUNTIME: the image's runtime (the run record's `runner.image_runtime`). */
  imageRuntime?: string;
  /**
   * --memory-events: the cgroup file whose `oom_kill` count tells that the runtime the runner started was killed for
   * want of memory (default: the runner's own cgroup's, runtime/oom.ts).
   */
  memoryEvents?: string;
  /**
   * --extension-timeout: seconds each extension has, after the runtime answered, to ask for its next event before the
   * run goes on without it.
   */
  extensionTimeoutSeconds: number;
  /**
   * --assume-function-role: a deployed function runs with its own execution role's credentials, assumed by the job
   * role, instead of the job role's.
   */
  assumeFunctionRole: boolean;
}

/** Where layers go, as in Lambda. */
export const DEFAULT_OPT_DIR = '/opt';

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: RunOptions };

const valueFlags = [
  'handler',
  'runtime',
  'timeout',
  'job-timeout',
  'network-timeout',
  'cache-dir',
  'opt-dir',
  'compat',
  'log-level',
  'tenant-id',
  'client-context',
  'cognito-identity',
  'record',
  'item-count',
  'items-per-job',
  'item-indexes',
  'runtime-api',
  'init-timeout',
  'memory-events',
  'extension-timeout',
] as const;
type ValueFlag = (typeof valueFlags)[number];

/** The options that take no value: each on when given, or when its env twin is true. */
const switchFlags = ['no-cache', 'external-runtime', 'ignore-architecture', 'assume-function-role'] as const;
type SwitchFlag = (typeof switchFlags)[number];
const isSwitch = (name: string): name is SwitchFlag => (switchFlags as readonly string[]).includes(name);

const argvOptions = {
  ...Object.fromEntries(valueFlags.map((f) => [f, { type: 'string' as const }])),
  ...Object.fromEntries(switchFlags.map((f) => [f, { type: 'boolean' as const }])),
  help: { type: 'boolean' as const, short: 'h' },
  version: { type: 'boolean' as const, short: 'V' },
};

/** The options a job sets through its environment, under the names lib/job-wire.ts gives them. */
const jobSettingOf = {
  'item-count': 'itemCount',
  'items-per-job': 'itemsPerJob',
  'item-indexes': 'itemIndexes',
  'job-timeout': 'jobTimeout',
} as const satisfies Partial<Record<ValueFlag, keyof JobSettingsText>>;
type JobSettingFlag = keyof typeof jobSettingOf;
const isJobSetting = (flag: string): flag is JobSettingFlag => Object.hasOwn(jobSettingOf, flag);

/**
 * The rule, written once: every option has an env twin and the flag wins. The twin of a job setting is the variable
 * lib/job-wire.ts names (the one the dispatcher writes); any other's is RUN_LAMBDA_<NAME> (`--log-level`:
 * RUN_LAMBDA_LOG_LEVEL).
 */
function twinOf(flag: ValueFlag | SwitchFlag): string {
  if (isJobSetting(flag)) return JobSettingVariables[jobSettingOf[flag]];
  return `${RUNNER_ENV_PREFIX}${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** How an option is named in a message: the flag, and for a job setting its variable too. */
const shown = (flag: JobSettingFlag) => `--${flag} (${twinOf(flag)})`;

/** The words of argv, judged: the flags with values, the switches, the positional arguments. */
interface Words {
  flags: Map<string, string>;
  switches: Map<string, boolean>;
  positional: string[];
}

/**
 * node:util's parser splits the words; its own errors are not ours (they suggest `--`), so it runs lax and the
 * tokens are judged here, in argv order: the first of --help, --version or a bad option decides.
 */
function readWords(argv: readonly string[]): Words | { kind: 'help' } | { kind: 'version' } {
  const { tokens } = parseArgv({
    args: [...argv],
    options: argvOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const words: Words = { flags: new Map(), switches: new Map(), positional: [] };
  for (const token of tokens) {
    if (token.kind === 'positional') {
      words.positional.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const word = argv[token.index] as string;
    // `-abc` is one unknown word to us, not the short flags -a -b -c (`-handler` is not `-h`).
    if (!word.startsWith('--') && word.length > 2) throw new UsageError(`unknown option ${word}`);
    if (token.name === 'help') return { kind: 'help' };
    if (token.name === 'version') return { kind: 'version' };
    if (isSwitch(token.name)) {
      if (token.inlineValue) throw new UsageError(`option --${token.name} takes no value`);
      words.switches.set(token.name, true);
      continue;
    }
    if (!(valueFlags as readonly string[]).includes(token.name) || !token.rawName.startsWith('--')) {
      throw new UsageError(`unknown option ${token.rawName}`);
    }
    if (token.value === undefined || token.value === '') {
      throw new UsageError(`option --${token.name} needs a value`);
    }
    words.flags.set(token.name, token.value);
  }
  return words;
}

/** `<function> <payload-url> [<output-url>]`, each checked for being there. */
function positionals(positional: string[]): [string, string, string | undefined] {
  if (positional.length < 2) {
    throw new UsageError(
      positional.length === 0 ? 'missing <function> and <payload-url>' : 'missing <payload-url>',
    );
  }
  if (positional.length > 3) throw new UsageError(`too many arguments: ${positional.slice(3).join(' ')}`);
  const [functionRef, payloadUrl, outputUrl] = positional as [string, string, string | undefined];
  if (!functionRef) throw new UsageError('<function> is empty');
  if (!payloadUrl) throw new UsageError('<payload-url> is empty');
  return [functionRef, payloadUrl, outputUrl];
}

/** Parses argv (without `node` and the script) with `env` for the twins. Throws UsageError. */
export function parseArgs(argv: readonly string[], env: Env): ParsedArgs {
  const words = readWords(argv);
  if ('kind' in words) return words;
  const { flags, switches } = words;
  const [functionRef, payloadUrl, outputUrl] = positionals(words.positional);

  const settings = jobSettingsFromEnv(env);
  const twin = (flag: ValueFlag) =>
    isJobSetting(flag) ? settings[jobSettingOf[flag]] : envString(env, twinOf(flag));
  const pick = (flag: ValueFlag): string | undefined => flags.get(flag) ?? twin(flag);
  const on = (flag: SwitchFlag) => switches.get(flag) ?? envBool(env, twinOf(flag), false);
  try {
    const options: RunOptions = {
      functionRef,
      payloadUrl,
      outputUrl: outputUrl || undefined,
      handler: pick('handler'),
      runtime: parseRuntime(pick('runtime')),
      timeoutSeconds: parseSeconds('--timeout', pick('timeout')),
      jobTimeoutSeconds: parseSeconds(shown('job-timeout'), pick('job-timeout')),
      networkTimeoutSeconds:
        parseSeconds('--network-timeout', pick('network-timeout')) ?? DEFAULT_IDLE_TIMEOUT_S,
      // Absolute, so that the runtime (started in the task root) sees the same folders.
      cacheDir: resolve(pick('cache-dir') ?? defaultCacheDir(env)),
      useCache: !on('no-cache'),
      optDir: resolve(pick('opt-dir') ?? DEFAULT_OPT_DIR),
      compat: parseCompat(pick('compat')),
      logLevel: parseLogLevel(pick('log-level') ?? 'info'),
      tenantId: parseTenantId(pick('tenant-id')),
      clientContext: parseJsonObject('--client-context', pick('client-context'), true),
      cognitoIdentity: parseJsonObject('--cognito-identity', pick('cognito-identity'), false),
      recordUrl: pick('record'),
      items: itemSet(payloadUrl, outputUrl || undefined, pick, settings.arrayIndex),
      ignoreArchitecture: on('ignore-architecture'),
      externalRuntime: externalRuntime(on('external-runtime'), pick),
      batch: parseBatchContext(
        envString(env, 'AWS_BATCH_JOB_ID'),
        envString(env, 'AWS_BATCH_JOB_ATTEMPT'),
        settings.arrayIndex,
      ),
      redriveOf: parseRedriveOf(JobSettingVariables.redriveOf, settings.redriveOf),
      imageRuntime: envString(env, RUN_LAMBDA_IMAGE_RUNTIME),
      memoryEvents: pick('memory-events'),
      assumeFunctionRole: on('assume-function-role'),
      extensionTimeoutSeconds:
        parseSeconds('--extension-timeout', pick('extension-timeout')) ?? DEFAULT_EXTENSION_TIMEOUT_S,
      firstAttempt: envString(env, 'AWS_BATCH_JOB_ATTEMPT') === '1',
    };
    if (options.items && options.recordUrl !== undefined) {
      throw new UsageError(
        "--record names one run's record; an item set's records go beside each item's result",
      );
    }
    return { kind: 'run', options };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

export function defaultCacheDir(env: Env): string {
  const xdg = envString(env, 'XDG_CACHE_HOME');
  if (xdg) return join(xdg, 'run-lambda');
  return join(envString(env, 'HOME') ?? homedir(), '.cache', 'run-lambda');
}

type Pick = (flag: ValueFlag) => string | undefined;

/** The set options, checked together before anything runs; undefined for one payload (which takes none of them). */
function itemSet(payloadUrl: string, outputUrl: string | undefined, pick: Pick, arrayIndex?: string) {
  const count = pick('item-count');
  const perJob = pick('items-per-job');
  const indexes = pick('item-indexes');
  if (!isItemSetUrl(payloadUrl)) {
    if (count !== undefined || perJob !== undefined || indexes !== undefined) {
      const what = shown(
        count !== undefined ? 'item-count' : perJob !== undefined ? 'items-per-job' : 'item-indexes',
      );
      throw new UsageError(
        `${what} is for an item set, a payload URL ending in /; ${payloadUrl} is one payload`,
      );
    }
    return undefined;
  }
  if (outputUrl === undefined || !isItemSetUrl(outputUrl)) {
    throw new UsageError(
      `an item set needs an <output-url> ending in / (item i's result goes to <output-url><i>.json), got ${outputUrl === undefined ? 'none' : outputUrl}`,
    );
  }
  const set = parseItemSet(
    { name: shown('item-count'), value: count },
    { name: shown('items-per-job'), value: perJob },
    { name: JobSettingVariables.arrayIndex, value: arrayIndex },
  );
  return indexes === undefined ? set : { ...set, indexesUrl: indexes };
}

function externalRuntime(on: boolean, pick: Pick): RunOptions['externalRuntime'] {
  const address = pick('runtime-api');
  const init = pick('init-timeout');
  if (!on) {
    if (address !== undefined || init !== undefined) {
      const flag = address !== undefined ? '--runtime-api' : '--init-timeout';
      throw new UsageError(`${flag} is for --external-runtime (a runtime the runner does not start)`);
    }
    return undefined;
  }
  return {
    ...parseAddress('--runtime-api', address ?? DEFAULT_EXTERNAL_RUNTIME_API),
    initTimeoutSeconds: parseSeconds('--init-timeout', init) ?? DEFAULT_INIT_TIMEOUT_S,
  };
}
