// lambda-batch's errors and its exit codes, in one table beside them (docs/operators.md "Exit codes"): each type is a
// class made by lib/error-class.ts below OpsError, named once, with the code the command ends with; AWS's own errors
// become one of them in awsError().
import { errorClass } from '../lib/error-class.js';
import { isTransient } from '../lib/retry.js';

/** What every command may end with, besides `status`'s 1 (failed or missing) and 75 (not finished). */
export const ExitCodes = {
  ok: 0,
  failed: 1,
  usage: 2,
  transient: 4,
  notFinished: 75,
} as const;

/** Base of every error the CLI reports as one line, `lambda-batch: <message>`. */
export class OpsError extends Error {
  override name = 'OpsError';
  /** the code lambda-batch ends with */
  readonly exitCode: number = ExitCodes.failed;
}

/** Bad arguments: the usage text is printed above the message. */
export class UsageError extends errorClass('UsageError', OpsError, { exitCode: ExitCodes.usage }) {}

/** No such Batch job (in this region and account). */
export class UnknownJobError extends errorClass('UnknownJobError', OpsError, { exitCode: ExitCodes.usage }) {}

/** A job or record this project did not make: no run record, no lambda_function/url/url_out parameters. */
export class NotOursError extends errorClass('NotOursError', OpsError, { exitCode: ExitCodes.usage }) {}

/** The job has not finished, so what was asked cannot be done yet (a redrive). */
export class JobRunningError extends errorClass('JobRunningError', OpsError, { exitCode: ExitCodes.usage }) {}

/** AWS refused a call for a reason another try would meet again (access denied, a bad parameter). */
export class AwsRefusedError extends errorClass('AwsRefusedError', OpsError, { exitCode: ExitCodes.usage }) {}

/** A call failed for a reason a retry may not meet (5xx, throttling, a lost connection): exit 4. */
export class TransientAwsError extends errorClass('TransientAwsError', OpsError, {
  exitCode: ExitCodes.transient,
}) {}

/** The dispatcher refused a redrive (its error type and message), or its answer was lost. */
export class DispatcherError extends errorClass('DispatcherError', OpsError) {}

/** The dispatcher is busy with the same key, or throttled: a retry may pass. */
export class DispatcherBusyError extends errorClass('DispatcherBusyError', DispatcherError, {
  exitCode: ExitCodes.transient,
}) {}

/**
 * An AWS SDK error as one of ours: transient (exit 4) or refused (exit 2), its message saying what was being done.
 * An OpsError passes unchanged.
 */
export function awsError(err: unknown, doing: string): OpsError {
  if (err instanceof OpsError) return err;
  const e = err as Error;
  const said = `could not ${doing}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
  return isTransient(err)
    ? new TransientAwsError(`${said} (a retry may succeed)`, { cause: err })
    : new AwsRefusedError(said, { cause: err });
}

/** `await call`, with a failure turned into awsError(…, doing). */
export async function aws<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw awsError(err, doing);
  }
}
