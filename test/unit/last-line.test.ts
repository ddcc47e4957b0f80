// The last line on stderr, which Cirrus's post-batch reads: one line, the type kept, a long message cut.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FunctionError, LAST_LINE_MESSAGE_MAX, lastLine } from '../../runner/errors.js';

test('last line: `<ErrorType>: <message>` on one line', () => {
  assert.equal(lastLine(new FunctionError('ValueError', 'bad\n  band')), 'ValueError: bad band');
  assert.equal(lastLine(new FunctionError('not a type!', 'm')), 'Error: m');
});

test('last line: a message over the limit is cut there, its type kept and its full length named', () => {
  const line = lastLine(new FunctionError('ValueError', 'x'.repeat(5_000_000)));
  assert.equal(line, `ValueError: ${'x'.repeat(LAST_LINE_MESSAGE_MAX)}… (cut; 5000000 characters in all)`);
});

test('last line: the cut never splits a surrogate pair', () => {
  const line = lastLine(new FunctionError('E', `${'a'.repeat(LAST_LINE_MESSAGE_MAX - 1)}🚀🚀`));
  assert.ok(
    line.endsWith(
      `${'a'.repeat(LAST_LINE_MESSAGE_MAX - 1)}… (cut; ${LAST_LINE_MESSAGE_MAX + 3} characters in all)`,
    ),
    line,
  );
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(line), 'a lone high surrogate');
});

test('last line: a message exactly at the limit is not cut', () => {
  const m = 'y'.repeat(LAST_LINE_MESSAGE_MAX);
  assert.equal(lastLine(new FunctionError('E', m)), `E: ${m}`);
});
