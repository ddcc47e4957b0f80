// lambda-batch's arguments: the command, its one positional, the flags it takes (any other is refused), each value
// checked; the environment's defaults (config.ts) come after the flags.
import { parseArgs as nodeParseArgs } from 'node:util';
import { BATCH_JOB_ID } from '../lib/batch-job-id.js';
import { isItemSetUrl } from '../lib/item-set.js';
import { parseS3Url } from '../lib/s3-url.js';
import { UsageError } from './errors.js';
import { DEFAULT_INTERVAL_S, DEFAULT_LIST_LIMIT, DEFAULT_MAX_WAIT_S } from './usage.js';

export const Commands = ['status', 'logs', 'redrive', 'list', 'cancel'] as const;
export type Command = (typeof Commands)[number];

const FLAGS = {
  json: { type: 'boolean' },
  region: { type: 'string' },
  progress: { type: 'boolean' },
  index: { type: 'string' },
  attempt: { type: 'string' },
  follow: { type: 'boolean' },
  interval: { type: 'string' },
  'max-wait': { type: 'string' },
  dispatcher: { type: 'string' },
  'dry-run': { type: 'boolean' },
  function: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  reason: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;
type Flag = keyof typeof FLAGS;

const EVERY: Flag[] = ['json', 'region', 'debug', 'help', 'version'];
/** Each command's positional (undefined: none) and its own flags. */
const SHAPES: Record<Command, { positional?: string; flags: Flag[] }> = {
  status: { positional: '<job-id | record-url>', flags: ['progress'] },
  logs: { positional: '<job-id>', flags: ['index', 'attempt', 'follow', 'interval', 'max-wait'] },
  redrive: { positional: '<job-id>', flags: ['dispatcher', 'dry-run', 'progress'] },
  list: { flags: ['function', 'since', 'limit', 'bucket', 'prefix', 'dispatcher'] },
  cancel: { positional: '<job-id>', flags: ['reason'] },
};

/** A job as the user named it: its id, and the region its ARN names. */
export interface JobRef {
  id: string;
  region?: string;
}

export interface Invocation {
  command: Command;
  /** the job (status: undefined when a record URL was given) */
  job?: JobRef;
  recordUrl?: string;
  json: boolean;
  region?: string;
  debug: boolean;
  progress: boolean;
  index?: number;
  attempt?: number;
  follow: boolean;
  intervalMs: number;
  maxWaitMs: number;
  dispatcher?: string;
  dryRun: boolean;
  function?: string;
  /** ms since epoch */
  since?: number;
  limit: number;
  bucket?: string;
  prefix?: string;
  reason?: string;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; invocation: Invocation };

const JOB_ARN = /^arn:aws[a-zA-Z-]*:batch:([a-z0-9-]+):\d{12}:job\/(.+)$/;

/** A Batch job id (`<uuid>` or `<uuid>:<i>`) or job ARN, or UsageError naming what it is not. */
export function parseJobRef(text: string): JobRef {
  const arn = JOB_ARN.exec(text);
  const id = arn ? arn[2]! : text;
  if (!BATCH_JOB_ID.test(id))
    throw new UsageError(
      `${JSON.stringify(text.slice(0, 100))} is not a Batch job id (a UUID such as 0f5b9a2c-3d4e-4f60-8a1b-2c3d4e5f6a7b, or <id>:<i> for an array child) nor a job ARN`,
    );
  return arn ? { id, region: arn[1]! } : { id };
}

function whole(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new UsageError(
      `--${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  return n;
}

function seconds(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback * 1000;
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min))
    throw new UsageError(`--${flag} must be a number of seconds ≥ ${min}, got ${JSON.stringify(text)}`);
  return Math.round(n * 1000);
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO 8601 time, or an age (`30m`, `6h`, `7d`) counted back from `now`. */
export function parseSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const age = /^(\d+)([smhd])$/.exec(text);
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? Date.parse(text)
    : Number.NaN;
  if (Number.isNaN(at))
    throw new UsageError(
      `--since must be an ISO time (2026-12-01T08:00Z) or an age (30m, 6h, 7d), got ${JSON.stringify(text)}`,
    );
  return at;
}

/** A record's URL (or a set's output prefix), or UsageError saying what is wrong with it. */
function recordUrl(url: string): string {
  try {
    parseS3Url(isItemSetUrl(url) ? `${url}x` : url);
  } catch (err) {
    throw new UsageError(
      `${JSON.stringify(url.slice(0, 100))} is not a run record's URL: ${(err as Error).message}`,
    );
  }
  return url;
}

/** The command and its positional from the words that are not flags. */
function commandOf(positionals: string[]): { command: Command; positional?: string } {
  const [word, positional, extra] = positionals;
  if (word === undefined)
    throw new UsageError('a command is required: status, logs, redrive, list or cancel');
  if (!(Commands as readonly string[]).includes(word))
    throw new UsageError(
      `unknown command ${JSON.stringify(word)}: give status, logs, redrive, list or cancel`,
    );
  const command = word as Command;
  const shape = SHAPES[command];
  if (shape.positional === undefined && positional !== undefined)
    throw new UsageError(`${command} takes no argument, got ${JSON.stringify(positional)}`);
  if (shape.positional !== undefined && positional === undefined)
    throw new UsageError(`${command} needs ${shape.positional}`);
  if (extra !== undefined)
    throw new UsageError(`${command} takes one argument, got also ${JSON.stringify(extra)}`);
  return positional === undefined ? { command } : { command, positional };
}

/**
 * Parses argv (without node and the script). Unknown flags, a flag another command takes, a missing or extra
 * argument and a bad value are UsageError; `--help` and `--version` win over everything else.
 */
export function parseArgs(argv: readonly string[], now: number = Date.now()): ParsedArgs {
  let parsed: ReturnType<typeof nodeParseArgs<{ options: typeof FLAGS; allowPositionals: true }>>;
  try {
    parsed = nodeParseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (err) {
    if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
    // Node's own words, first line only (its hints name a syntax of its own): `Unknown option '--x'`.
    const first = (err as Error).message.split('\n')[0] ?? '';
    throw new UsageError(first.replace(/\. To specify a positional.*$/, '').replace(/\.$/, ''));
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  const { command, positional } = commandOf(parsed.positionals);
  const allowed = new Set<string>([...EVERY, ...SHAPES[command].flags]);
  const stray = Object.keys(v).find((k) => !allowed.has(k));
  if (stray) throw new UsageError(`--${stray} does not go with ${command}`);
  const invocation: Invocation = {
    command,
    json: v.json === true,
    debug: v.debug === true,
    progress: v.progress === true,
    follow: v.follow === true,
    dryRun: v['dry-run'] === true,
    intervalMs: seconds('interval', v.interval, DEFAULT_INTERVAL_S, 0.1),
    maxWaitMs: seconds('max-wait', v['max-wait'], DEFAULT_MAX_WAIT_S, 0),
    limit: whole('limit', v.limit, 1, 100_000) ?? DEFAULT_LIST_LIMIT,
  };
  if (positional !== undefined) {
    if (command === 'status' && positional.startsWith('s3://')) invocation.recordUrl = recordUrl(positional);
    else invocation.job = parseJobRef(positional);
  }
  const index = whole('index', v.index, 0, 9_999);
  const attempt = whole('attempt', v.attempt, 1, 10);
  if (index !== undefined) invocation.index = index;
  if (attempt !== undefined) invocation.attempt = attempt;
  if ((v.interval !== undefined || v['max-wait'] !== undefined) && !invocation.follow)
    throw new UsageError('--interval and --max-wait go with --follow');
  const since = parseSince(v.since, now);
  if (since !== undefined) invocation.since = since;
  for (const key of ['region', 'dispatcher', 'function', 'bucket', 'prefix', 'reason'] as const) {
    const value = v[key];
    if (value === '') throw new UsageError(`--${key} must not be empty`);
    if (value !== undefined) invocation[key] = value;
  }
  return { kind: 'run', invocation };
}
