// Errors of the dispatcher and the feeder helper: one base class, one subclass per failure a caller can act on.
import { ConfigError } from './env.js';
import { errorClass } from './error-class.js';

/** Base of every dispatcher/helper error; `name` is what Lambda reports as `errorType`. */
export class DispatchError extends Error {
  override name = 'DispatchError';
}

/** The request is malformed; the message names the field. Nothing was written or submitted. */
export class InvalidRequestError extends errorClass('InvalidRequestError', DispatchError) {}

/** The target Lambda function does not exist (GetFunction said so). */
export class FunctionNotFoundError extends errorClass('FunctionNotFoundError', DispatchError) {}

/** The target exists but is not matched by ALLOWED_FUNCTIONS. */
export class FunctionNotAllowedError extends errorClass('FunctionNotAllowedError', DispatchError) {}

/** The function's runtime (or package type) has no job definition configured; nothing was written. */
export class UnsupportedRuntimeError extends errorClass('UnsupportedRuntimeError', DispatchError) {}

/** Another dispatch holds the same idempotency key and has not finished; try again later (nothing was written). */
export class IdempotencyInProgressError extends errorClass('IdempotencyInProgressError', DispatchError) {}

/** Writing (or removing) a payload object in S3 failed. */
export class PayloadStoreError extends errorClass('PayloadStoreError', DispatchError) {}

/** Batch refused the job (unknown queue or definition, throttling, access…). */
export class SubmitJobError extends errorClass('SubmitJobError', DispatchError) {}

/**
 * An image function's job definition could not be found or registered (Batch refused it, or another dispatcher
 * holds its registration too long); nothing was written for the request.
 */
export class JobDefinitionError extends errorClass('JobDefinitionError', DispatchError) {}

/** Every class by name, so a caller can re-raise what the dispatcher reported as `errorType`. */
export const DispatchErrors = {
  DispatchError,
  InvalidRequestError,
  FunctionNotFoundError,
  FunctionNotAllowedError,
  UnsupportedRuntimeError,
  IdempotencyInProgressError,
  PayloadStoreError,
  SubmitJobError,
  JobDefinitionError,
  // A bad dispatcher env value (lib/env.ts throws it); listed so callers can re-raise it too.
  ConfigError,
} as const;

export type DispatchErrorName = keyof typeof DispatchErrors;

/**
 * Rebuilds the error a dispatcher invoke reported (`{errorType, errorMessage}` of a FunctionError answer):
 * one of the classes above when the name is known, otherwise a DispatchError whose `name` is `errorType`.
 */
export function reviveDispatchError(errorType: string, errorMessage: string): Error {
  const Known = (DispatchErrors as Record<string, (new (m: string) => Error) | undefined>)[errorType];
  if (Known) return new Known(errorMessage);
  const err = new DispatchError(errorMessage);
  err.name = errorType || 'DispatchError';
  return err;
}
