// The runner's own log: short human lines on stderr, with levels; debug adds each step's timing.

export const LogLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LogLevels)[number];

export interface Logger {
  readonly level: LogLevel;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Runs `fn`, logging its duration at debug level as `<step> took N ms`. */
  step<T>(step: string, fn: () => Promise<T>): Promise<T>;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LogLevels as readonly string[]).includes(s);
}

/** A logger writing `run-lambda: <message>` lines to `write` (stderr by default). */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  now: () => number = () => performance.now(),
): Logger {
  const rank = LogLevels.indexOf(level);
  const start = now();
  const emit = (lvl: LogLevel, message: string) => {
    if (LogLevels.indexOf(lvl) < rank) return;
    const prefix = level === 'debug' ? `run-lambda [${Math.round(now() - start)} ms]` : 'run-lambda';
    const tag = lvl === 'warn' ? ' warning:' : lvl === 'debug' ? ' debug:' : '';
    write(`${prefix}:${tag} ${message}\n`);
  };
  return {
    level,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    async step(step, fn) {
      const t0 = now();
      emit('debug', `${step}…`);
      try {
        return await fn();
      } finally {
        emit('debug', `${step} took ${Math.round(now() - t0)} ms`);
      }
    },
  };
}
