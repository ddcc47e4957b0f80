// The deployed dispatcher, asked as the helper asks it: one synchronous Invoke, sent once (its idempotency key, not a
// resend, guards against a second job). Its refusals come back as DispatcherError with its error type and message.

import { parseJsonText } from '../lib/json-text.js';
import type { BatchJobAnswer } from '../lib/request.js';
import { isTransient } from '../lib/retry.js';
import type { Clients } from './aws.js';
import { DISPATCHER_VARIABLE } from './config.js';
import { DispatcherBusyError, DispatcherError, TransientAwsError, UsageError } from './errors.js';

/** Errors the dispatcher reports that another try may not meet: its key is busy, or S3 or Batch failed it. */
const BUSY = new Set(['IdempotencyInProgressError', 'PayloadStoreError']);

/** The dispatcher's name, or UsageError saying how to give one. */
export function dispatcherName(configured: string | undefined, command: string): string {
  if (configured === undefined)
    throw new UsageError(
      `${command} goes through the deployed dispatcher: give --dispatcher <name> or set ${DISPATCHER_VARIABLE}`,
    );
  return configured;
}

/** Sends `request` to `dispatcher` and returns its answer. */
export async function invokeDispatcher(
  clients: Clients,
  dispatcher: string,
  request: Record<string, unknown>,
): Promise<BatchJobAnswer> {
  const { InvokeCommand } = await import('@aws-sdk/client-lambda');
  const lambda = await clients.lambda(dispatcher);
  let out: { Payload?: Uint8Array; FunctionError?: string };
  try {
    out = await lambda.send(
      new InvokeCommand({
        FunctionName: dispatcher,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(request)),
      }),
    );
  } catch (err) {
    const said = `could not invoke the dispatcher ${dispatcher}: ${(err as Error).name}: ${(err as Error).message}`;
    // An Invoke whose answer was lost may have made the job: say so rather than guess.
    if (isTransient(err))
      throw new TransientAwsError(
        `${said}; a job may have been submitted: see lambda-batch list before trying again`,
        { cause: err },
      );
    throw new DispatcherError(said, { cause: err });
  }
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  let answer: unknown;
  try {
    answer = parseJsonText(text);
  } catch (err) {
    throw new DispatcherError(
      `the dispatcher ${dispatcher} answered with something that is ${(err as Error).message}`,
    );
  }
  if (out.FunctionError) {
    const e = (answer ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    const type = String(e.errorType ?? 'Error');
    const message = `the dispatcher refused: ${type}: ${String(e.errorMessage ?? '')}`;
    throw BUSY.has(type) ? new DispatcherBusyError(message) : new DispatcherError(message);
  }
  return answer as BatchJobAnswer;
}
