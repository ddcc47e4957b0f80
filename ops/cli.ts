// lambda-batch's entry point: parse the arguments (a usage error, --help and --version answered here, with none of
// the SDK loaded), then load the commands (load.ts) and run the one asked for; end with its exit code.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from './args.js';
import { ExitCodes, OpsError, UsageError } from './errors.js';
import type { Io } from './io.js';
import { loadCommands } from './load.js';
import { USAGE } from './usage.js';

declare const __OPS_VERSION__: string | undefined;
const VERSION = typeof __OPS_VERSION__ === 'string' ? __OPS_VERSION__ : '0.0.0-dev';

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv, io.now());
  } catch (err) {
    if (!(err instanceof OpsError)) throw err;
    if (err instanceof UsageError) io.err(`${USAGE}\n\n`);
    io.err(`lambda-batch: ${err.message}\n`);
    return err.exitCode;
  }
  if (parsed.kind === 'help') {
    io.out(`${USAGE}\n`);
    return ExitCodes.ok;
  }
  if (parsed.kind === 'version') {
    io.out(`lambda-batch ${VERSION}\n`);
    return ExitCodes.ok;
  }
  const { runCommand } = await loadCommands();
  return runCommand(parsed.invocation, io);
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  errIsTty: process.stderr.isTTY === true,
  env: process.env,
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
};

// The SDK's notice that its next versions will need a newer Node.js is for this tool's maintainers, not for the
// person asking about a job; any other warning is shown as one line.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (!w.message.startsWith('NodeVersionSupportWarning'))
    processIo.err(`lambda-batch: warning: ${w.name}: ${w.message.replace(/\s*\n\s*/g, ' ')}\n`);
});

const code = await main(process.argv.slice(2), processIo);
// Exit once stdout and stderr have drained (an SDK socket may still hold the loop).
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
