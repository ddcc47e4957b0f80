// Structured JSON log lines for Lambda code, in the shape Powertools' logger writes (level, message, timestamp, service, keys).

export const JsonLogLevels = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type JsonLogLevel = (typeof JsonLogLevels)[number];

/** Extra keys of a line; `payload` is dropped from any line above DEBUG so payloads never reach INFO logs. */
export type LogKeys = Record<string, unknown>;

export interface JsonLogger {
  readonly level: JsonLogLevel;
  debug(message: string, keys?: LogKeys): void;
  info(message: string, keys?: LogKeys): void;
  warn(message: string, keys?: LogKeys): void;
  error(message: string, keys?: LogKeys): void;
  /** A logger that adds `keys` to every line (e.g. the request id, the target function). */
  child(keys: LogKeys): JsonLogger;
}

export interface JsonLoggerOptions {
  service: string;
  /** A level name in any case (`debug`, `INFO`…); unknown or empty means INFO. */
  level?: string | undefined;
  write?: (line: string) => void;
  now?: () => Date;
}

export function parseLogLevel(level: string | undefined): JsonLogLevel {
  const up = (level ?? '').trim().toUpperCase();
  if (up === 'WARNING') return 'WARN';
  if (up === 'CRITICAL' || up === 'FATAL') return 'ERROR';
  return (JsonLogLevels as readonly string[]).includes(up) ? (up as JsonLogLevel) : 'INFO';
}

/**
 * A parser's words without what it quoted: JSON.parse (and other parsers) quote the text around a fault, which may
 * be payload text, so a SyntaxError's message is cut before its first quote on lines above debug, whatever it says.
 */
export function parserWords(err: Error): string {
  if (!(err instanceof SyntaxError)) return err.message;
  const cut = err.message.search(/["'`]/);
  return cut < 0 ? err.message : `${err.message.slice(0, cut).trimEnd()} (the input it quoted is left out)`;
}

/**
 * An Error as Powertools renders it: name, message, stack (and the cause's name and message). With `quoted` false
 * (every level above debug), a parser's quote of its input is left out of the message, the stack and the cause.
 */
export function errorKeys(err: unknown, quoted = true): LogKeys {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const message = quoted ? err.message : parserWords(err);
  const stack = message === err.message ? err.stack : err.stack?.split(err.message).join(message);
  const out: LogKeys = { name: err.name, message, stack };
  if (err.cause instanceof Error)
    out.cause = { name: err.cause.name, message: quoted ? err.cause.message : parserWords(err.cause) };
  return out;
}

function render(keys: LogKeys, quoted: boolean): LogKeys {
  const out: LogKeys = {};
  for (const [k, v] of Object.entries(keys)) {
    if (v === undefined) continue;
    out[k] = v instanceof Error ? errorKeys(v, quoted) : v;
  }
  return out;
}

/** A JSON-lines logger on stdout (where Lambda collects logs), filtered by level. */
export function createJsonLogger(options: JsonLoggerOptions, base: LogKeys = {}): JsonLogger {
  const level = parseLogLevel(options.level);
  const rank = JsonLogLevels.indexOf(level);
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (lvl: JsonLogLevel, message: string, keys: LogKeys | undefined) => {
    if (JsonLogLevels.indexOf(lvl) < rank) return;
    const extra = render({ ...base, ...keys }, lvl === 'DEBUG');
    if (lvl !== 'DEBUG') delete extra.payload;
    const line = { level: lvl, message, timestamp: now().toISOString(), service: options.service, ...extra };
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      // A key that cannot be serialised (a cycle, a BigInt) must not turn a log line into a crash.
      text = JSON.stringify({ level: lvl, message, timestamp: line.timestamp, service: options.service });
    }
    write(`${text}\n`);
  };
  return {
    level,
    debug: (m, k) => emit('DEBUG', m, k),
    info: (m, k) => emit('INFO', m, k),
    warn: (m, k) => emit('WARN', m, k),
    error: (m, k) => emit('ERROR', m, k),
    child: (keys) => createJsonLogger(options, { ...base, ...keys }),
  };
}
