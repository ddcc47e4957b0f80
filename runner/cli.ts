// run-lambda's entry point: parse arguments, run once, end with the exit code of runner/errors.ts's table and
// `<ErrorType>: <message>` (docs/runner.md "Exit codes").
import { asRunnerError, lastLine, UsageError } from './errors.js';
import { createLogger } from './log.js';
import { parseArgs, USAGE } from './options.js';

declare const __RUNNER_VERSION__: string | undefined;
const VERSION = typeof __RUNNER_VERSION__ === 'string' ? __RUNNER_VERSION__ : '0.0.0-dev';

/**
 * Signals that stop a run: passed on to the runtime, its group ended, exit 128+N. Left to their defaults,
 * SIGQUIT, SIGUSR2 and SIGALRM would kill the runner alone and orphan the runtime.
 */
const stopSignals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGALRM'] as const;

// Node opens its inspector on 127.0.0.1:9229 at SIGUSR1 unless a listener is installed (anyone who may signal
// the runner could then run code in it): ignored from the first moment, with a note once the log exists.
let onUsr1 = () => {};
process.on('SIGUSR1', () => onUsr1());

async function main(argv: string[]): Promise<number> {
  const env = process.env;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv, env);
  } catch (err) {
    const e = asRunnerError(err);
    process.stderr.write(`${USAGE}\n\n${lastLine(e)}\n`);
    return e.exitCode;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`run-lambda ${VERSION}\n`);
    return 0;
  }
  const opts = parsed.options;
  const log = createLogger(opts.logLevel);
  // Process warnings go through the runner's log. The SDK's notice that it will need a newer Node is for this
  // tool's maintainers (the images run Node 22), not for the person running a function: debug only.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    const line = `${w.name}: ${w.message}`.replace(/\s*\n\s*/g, ' ');
    if (w.message.startsWith('NodeVersionSupportWarning')) log.debug(line);
    else log.warn(line);
  });
  const controller = new AbortController();
  for (const sig of stopSignals) process.on(sig, () => controller.abort(sig));
  onUsr1 = () => log.warn('ignoring SIGUSR1 (it would open the Node.js inspector)');
  try {
    // Loaded only for a run: --version, --help and a usage error never evaluate the runner's modules.
    const [{ run }, { spawn }] = await Promise.all([import('./run.js'), import('node:child_process')]);
    await run(opts, {
      env,
      cwd: process.cwd(),
      stdin: () => process.stdin,
      stdout: process.stdout,
      log,
      spawn,
      signal: controller.signal,
      version: VERSION,
      // Batch counts a job's time from the task's start: the nearest this process knows is its own start.
      processStarted: performance.timeOrigin,
    });
    return 0;
  } catch (err) {
    if (log.level === 'debug' && err instanceof Error && err.stack) log.debug(err.stack);
    const e = asRunnerError(err);
    if (e instanceof UsageError) process.stderr.write(`${USAGE}\n\n`);
    // The runtime shares this stderr and may have been ended mid-line (a Node.js runtime writes a pipe
    // asynchronously): a newline first, so that the last line is always a line of its own.
    process.stderr.write(`\n${lastLine(e)}\n`);
    return e.exitCode;
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly (stdin or a parked socket may still hold the loop), once stdout and stderr have drained.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
