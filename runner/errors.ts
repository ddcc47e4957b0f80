// The runner's exit codes and error types, in one table: code, docs (docs/runner.md "Exit codes") and tests read from here.
// Each type is a class below RunnerError made by lib/error-class.ts, with the exit code it ends the run with.
import { constants } from 'node:os';
import { errorClass } from '../lib/error-class.js';

export const ExitCode = {
  ok: 0,
  functionFailed: 1,
  usage: 2,
  prepare: 3,
  payload: 4,
  timeout: 124,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** 128 + signal number, as shells report a process stopped by a signal. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? constants.signals.SIGTERM);
}

/** Base of every error the runner reports; `exitCode` decides how the process ends. */
export class RunnerError extends Error {
  readonly exitCode: number = ExitCode.functionFailed;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A runner error type called `name` below RunnerError, that ends the run with `exitCode`. */
function withExitCode(name: string, exitCode: number) {
  return errorClass(name, RunnerError, { exitCode });
}

/** Bad arguments, bad URL, a payload that is not JSON. Exit 2. */
export class UsageError extends withExitCode('UsageError', ExitCode.usage) {}

/** The payload is not valid JSON. Exit 2. */
export class InvalidPayloadError extends withExitCode('InvalidPayloadError', ExitCode.usage) {}

/** The function could not be prepared: not found, denied, bad checksum, unsafe archive, no runtime. Exit 3. */
export class FunctionPrepareError extends withExitCode('FunctionPrepareError', ExitCode.prepare) {}
export class FunctionNotFoundError extends errorClass('FunctionNotFoundError', FunctionPrepareError) {}
export class ChecksumMismatchError extends errorClass('ChecksumMismatchError', FunctionPrepareError) {}
export class UnsafeArchiveError extends errorClass('UnsafeArchiveError', FunctionPrepareError) {}
export class RuntimeNotAvailableError extends errorClass('RuntimeNotAvailableError', FunctionPrepareError) {}
/** The function is built for another machine's architecture than this one (docs/runner.md "Architectures"). Exit 3. */
export class ArchitectureMismatchError extends errorClass(
  'ArchitectureMismatchError',
  FunctionPrepareError,
) {}
/** The function uses a Lambda feature a Batch job cannot provide (durable execution). Exit 3. */
export class UnsupportedFunctionError extends errorClass('UnsupportedFunctionError', FunctionPrepareError) {}

/**
 * The payload or the result's place does not exist or may not be used: no such object, file or bucket,
 * access denied. A retry would fail the same way, so Batch must not make one. Exit 2.
 */
export class PayloadAccessError extends withExitCode('PayloadAccessError', ExitCode.usage) {}

/** The output URL cannot take a result (a folder, a missing folder, the payload itself); found before the function runs. Exit 2. */
export class InvalidOutputError extends withExitCode('InvalidOutputError', ExitCode.usage) {}

/**
 * The payload could not be read or the result could not be written for a reason a retry may not meet: a 5xx,
 * throttling, a cut or stalled connection, a full disk. Exit 4 (the template's job definitions retry it).
 */
export class PayloadIOError extends withExitCode('PayloadIOError', ExitCode.payload) {}

/** The deadline passed and the runtime was killed. Exit 124. */
export class TimeoutError extends withExitCode('TimeoutError', ExitCode.timeout) {}

/**
 * The job's own time (--job-timeout, Batch's attempt duration) ran out: the invocation was ended (or not started)
 * before Batch's SIGTERM. Exit 124; in an item set it ends the child, as the job's end would.
 */
export class JobTimeoutError extends errorClass('JobTimeoutError', TimeoutError) {}

/** The runner was stopped by a signal. Exit 128+N. */
export class StoppedBySignalError extends RunnerError {
  override name = 'StoppedBySignalError';
  override readonly exitCode: number;
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
    this.exitCode = signalExitCode(signal);
  }
}

/**
 * The function itself failed (handler threw, or init failed). Exit 1. `name` is the function's own error
 * type (e.g. `ValueError`, `Runtime.ImportModuleError`), so the last line reads `<ErrorType>: <message>`.
 */
export class FunctionError extends RunnerError {
  override readonly exitCode = ExitCode.functionFailed;
  /** The runtime's stack trace of the failure, one string per line (the run record's `error.stackTrace`). */
  readonly stackTrace: string[];
  constructor(errorType: string, message: string, stackTrace: string[] = []) {
    super(message);
    this.name = errorType;
    this.stackTrace = stackTrace;
  }
}

/**
 * Items of an item set failed (each has its record and error part under the output prefix); the others succeeded.
 * Exit 1. The message names the failed items and their error types.
 */
export class ItemsFailedError extends withExitCode('ItemsFailedError', ExitCode.functionFailed) {}

/**
 * Something failed inside the runner that none of the types above describes: a bug of the runner, not of the
 * function. Exit 1 (as Cirrus expects of a failed run), but the message says whose fault it is.
 */
export class RunnerInternalError extends RunnerError {
  override name = 'RunnerInternalError';
  constructor(cause: unknown) {
    const e = cause instanceof Error ? cause : new Error(String(cause));
    super(
      `run-lambda failed inside, not the function (please report this, with the output of --log-level debug): ${e.name}: ${e.message}`,
      { cause },
    );
  }
}

/** Any error as the one the run reports: the runner's own types as they are, anything else as RunnerInternalError. */
export function asRunnerError(err: unknown): RunnerError {
  return err instanceof RunnerError ? err : new RunnerInternalError(err);
}

/** Longest message the last line carries; a longer one is cut there (the type is always kept). */
export const LAST_LINE_MESSAGE_MAX = 2000;

/**
 * The last line on stderr: `<ErrorType>: <message>`, one line, type matching `[.\w]+`, the message cut when long.
 * Other control characters (a NUL from a URL, an escape sequence from a function's message) are shown as `\xNN`.
 */
export function lastLine(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const type = /^[.\w]+$/.test(e.name) ? e.name : 'Error';
  const text = String(e.message);
  // Cut before flattening, so a multi-megabyte message costs no more than its start.
  const head = text.length > LAST_LINE_MESSAGE_MAX * 2 ? text.slice(0, LAST_LINE_MESSAGE_MAX * 2) : text;
  let message = head
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/\t/g, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .trim();
  if (message.length > LAST_LINE_MESSAGE_MAX || head !== text) {
    // Not half of a surrogate pair at the cut.
    const cut = message.slice(0, LAST_LINE_MESSAGE_MAX).replace(/[\ud800-\udbff]$/, '');
    message = `${cut}… (cut; ${text.length} characters in all)`;
  }
  return `${type}: ${message}`;
}

/** Maps any error to its exit code (unknown errors are the runner's own failure: exit 1). */
export function exitCodeOf(err: unknown): number {
  return err instanceof RunnerError ? err.exitCode : ExitCode.functionFailed;
}
