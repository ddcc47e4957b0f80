// Every error type of the project is made by lib/error-class.ts below its part's base: each error's name is its
// class's exported name (what the runner's last line and Lambda's errorType show), and the runner's and lambda-batch's
// carry the exit code of their tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as helper from '../../functions/helper/errors.js';
import * as postBatch from '../../functions/post-batch/errors.js';
import { errorClass } from '../../lib/error-class.js';
import * as lib from '../../lib/errors.js';
import * as ops from '../../ops/errors.js';
import * as runner from '../../runner/errors.js';

/** The exported classes of a module that derive from `Base`, by exported name. */
function classesBelow(mod: Record<string, unknown>, Base: new (...a: never[]) => Error) {
  return Object.entries(mod).filter(
    (e): e is [string, new (m: string) => Error] =>
      typeof e[1] === 'function' && e[1].prototype instanceof Base,
  );
}

test('an error class made by errorClass: instanceof its bases, its name and its fields on every error', () => {
  class Base extends Error {
    code = 0;
  }
  class Made extends errorClass('MadeError', Base, { code: 7 }) {}
  const err = new Made('went wrong', { cause: 'why' });
  assert.ok(err instanceof Made && err instanceof Base && err instanceof Error);
  assert.equal(err.name, 'MadeError');
  assert.equal(err.code, 7);
  assert.equal(err.cause, 'why');
  assert.match(String(err.stack), /^MadeError: went wrong/);
});

test("every error type's name is its exported name, in the runner, post-batch, the helper, lib and lambda-batch", () => {
  const parts = [
    [runner, runner.RunnerError],
    [postBatch, postBatch.PostBatchError],
    [lib, lib.DispatchError],
    [helper, lib.DispatchError],
    [ops, ops.OpsError],
  ] as const;
  let seen = 0;
  for (const [mod, Base] of parts) {
    for (const [exported, Class] of classesBelow(mod, Base)) {
      if (
        exported === 'StoppedBySignalError' ||
        exported === 'FunctionError' ||
        exported === 'RunnerInternalError'
      )
        continue; // made with their own constructors (a signal, the function's error type, a cause)
      assert.equal(new Class('m').name, exported);
      seen++;
    }
  }
  assert.ok(seen >= 30, `${seen} error types`);
});

test("the runner's error types end the run with the exit code of its table", () => {
  const { ExitCode } = runner;
  const codes = Object.fromEntries(
    classesBelow(runner, runner.RunnerError)
      .filter(([name]) => !['StoppedBySignalError', 'FunctionError', 'RunnerInternalError'].includes(name))
      .map(([name, Class]) => [name, (new Class('m') as runner.RunnerError).exitCode]),
  );
  assert.deepEqual(codes, {
    UsageError: ExitCode.usage,
    InvalidPayloadError: ExitCode.usage,
    FunctionPrepareError: ExitCode.prepare,
    FunctionNotFoundError: ExitCode.prepare,
    ChecksumMismatchError: ExitCode.prepare,
    UnsafeArchiveError: ExitCode.prepare,
    RuntimeNotAvailableError: ExitCode.prepare,
    UnsupportedFunctionError: ExitCode.prepare,
    ArchitectureMismatchError: ExitCode.prepare,
    PayloadAccessError: ExitCode.usage,
    InvalidOutputError: ExitCode.usage,
    PayloadIOError: ExitCode.payload,
    TimeoutError: ExitCode.timeout,
    JobTimeoutError: ExitCode.timeout,
    ItemsFailedError: ExitCode.functionFailed,
  });
});

test("lambda-batch's error types end the command with the exit code of its table", () => {
  const { ExitCodes } = ops;
  const codes = Object.fromEntries(
    classesBelow(ops, ops.OpsError).map(([name, Class]) => [name, (new Class('m') as ops.OpsError).exitCode]),
  );
  assert.deepEqual(codes, {
    UsageError: ExitCodes.usage,
    UnknownJobError: ExitCodes.usage,
    NotOursError: ExitCodes.usage,
    JobRunningError: ExitCodes.usage,
    AwsRefusedError: ExitCodes.usage,
    TransientAwsError: ExitCodes.transient,
    DispatcherError: ExitCodes.failed,
    DispatcherBusyError: ExitCodes.transient,
  });
  assert.ok(new ops.DispatcherBusyError('m') instanceof ops.DispatcherError);
});
