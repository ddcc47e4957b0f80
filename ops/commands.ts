// What runs a parsed command: the SDK's half of lambda-batch, which cli.ts loads only once the arguments are good
// (load.ts). It prints the command's report (lines, or one JSON document with --json) and any error as one line,
// `lambda-batch: <message>` (under the usage text for a usage error; its stack only with --debug), and answers the
// exit code (errors.ts's table).
import type { Invocation } from './args.js';
import { createClients } from './aws.js';
import { cancel, cancelLines } from './cancel.js';
import { readConfig } from './config.js';
import { ExitCodes, OpsError, UsageError } from './errors.js';
import type { Io } from './io.js';
import { listJobs, listLines } from './list.js';
import { runLogs } from './logs.js';
import { redrive, redriveLines } from './redrive.js';
import { jobStatus, recordStatus } from './status.js';
import { statusJson, statusLines } from './status-view.js';
import { USAGE } from './usage.js';

/** Prints a report: one JSON document, or its lines. */
function print(io: Io, inv: Invocation, json: unknown, lines: string[]): void {
  io.out(inv.json ? `${JSON.stringify(json, null, 2)}\n` : `${lines.join('\n')}\n`);
}

async function run(inv: Invocation, io: Io): Promise<number> {
  const config = readConfig(inv, io.env);
  const clients = createClients(io.env, config.region);
  const showProgress = inv.progress || io.errIsTty;
  try {
    switch (inv.command) {
      case 'status': {
        const r = inv.recordUrl
          ? await recordStatus(clients, inv.recordUrl, io, showProgress)
          : await jobStatus(clients, inv.job!.id, io, showProgress);
        print(io, inv, statusJson(r), statusLines(r));
        return r.exitCode;
      }
      case 'logs':
        return await runLogs(inv, clients, io);
      case 'redrive': {
        const r = await redrive(inv, config, clients, io);
        print(io, inv, r, redriveLines(r));
        return ExitCodes.ok;
      }
      case 'list': {
        const r = await listJobs(inv, config, clients, io);
        print(io, inv, r, listLines(r));
        return ExitCodes.ok;
      }
      case 'cancel': {
        const r = await cancel(inv, clients);
        print(io, inv, r, cancelLines(r));
        return ExitCodes.ok;
      }
    }
  } finally {
    clients.destroy();
  }
}

/** The one line (and, for a usage error, the usage text) an error ends the CLI with; its exit code. */
export function reportError(err: unknown, io: Io, debug: boolean): number {
  if (debug && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
  if (err instanceof UsageError) io.err(`${USAGE}\n\n`);
  const known = err instanceof OpsError;
  const e = err as Error | undefined;
  const message = known ? err.message : `unexpected ${e?.name ?? 'error'}: ${e?.message ?? String(err)}`;
  io.err(`lambda-batch: ${message}\n`);
  return known ? err.exitCode : ExitCodes.failed;
}

/** Runs the command `inv`; its exit code. Never throws. */
export async function runCommand(inv: Invocation, io: Io): Promise<number> {
  try {
    return await run(inv, io);
  } catch (err) {
    return reportError(err, io, inv.debug);
  }
}
