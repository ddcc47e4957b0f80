import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asRunnerError,
  FunctionError,
  lastLine,
  PayloadAccessError,
  RunnerInternalError,
  signalExitCode,
} from '../../runner/errors.js';

test('an error the runner has no type for is a RunnerInternalError: exit 1, and the last line says it is the runner’s', () => {
  const e = asRunnerError(new TypeError("Cannot read properties of undefined (reading 'x')"));
  assert.ok(e instanceof RunnerInternalError);
  assert.equal(e.exitCode, 1);
  assert.equal(
    lastLine(e),
    "RunnerInternalError: run-lambda failed inside, not the function (please report this, with the output of --log-level debug): TypeError: Cannot read properties of undefined (reading 'x')",
  );
  assert.equal(asRunnerError('a thrown string').name, 'RunnerInternalError');
});

test('the runner’s own errors and the function’s pass through as they are', () => {
  const own = new PayloadAccessError('no such object');
  assert.equal(asRunnerError(own), own);
  const fnError = new FunctionError('ValueError', 'bad band');
  assert.equal(lastLine(asRunnerError(fnError)), 'ValueError: bad band');
});

test('the last line shows control characters as \\xNN: no NUL or escape sequence reaches the log', () => {
  const line = lastLine(new Error('path /a\u0000b and \u001b[31mred\u001b[0m\tdone'));
  assert.equal(line, 'Error: path /a\\x00b and \\x1b[31mred\\x1b[0m done');
});

test('128+N for every signal the runner stops on', () => {
  assert.deepEqual(
    ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGTERM'].map((s) =>
      signalExitCode(s as NodeJS.Signals),
    ),
    [129, 130, 131, 140, 142, 143],
  );
});
