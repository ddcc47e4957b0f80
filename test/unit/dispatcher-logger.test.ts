import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidRequestError } from '../../lib/errors.js';
import { createJsonLogger, parseLogLevel } from '../../lib/logger.js';

function capture(level?: string) {
  const lines: Record<string, unknown>[] = [];
  const log = createJsonLogger({
    service: 'dispatcher',
    level,
    write: (l) => lines.push(JSON.parse(l)),
    now: () => new Date('2024-05-01T00:00:00Z'),
  });
  return { log, lines };
}

test('log lines have the Powertools shape plus the keys of the child logger', () => {
  const { log, lines } = capture('info');
  log.child({ function_request_id: 'r1' }).info('job submitted', { job_id: 'j1', image: 'lambda' });
  assert.deepEqual(lines, [
    {
      level: 'INFO',
      message: 'job submitted',
      timestamp: '2024-05-01T00:00:00.000Z',
      service: 'dispatcher',
      function_request_id: 'r1',
      job_id: 'j1',
      image: 'lambda',
    },
  ]);
});

test('the payload key is dropped above DEBUG and kept at DEBUG', () => {
  const info = capture('info');
  info.log.info('placed', { payload: { secret: 1 }, payload_size: 12 });
  assert.equal(info.lines[0]?.payload, undefined);
  assert.equal(info.lines[0]?.payload_size, 12);
  const debug = capture('DEBUG');
  debug.log.debug('placed', { payload: { secret: 1 } });
  debug.log.warn('placed', { payload: { secret: 1 } });
  assert.deepEqual(debug.lines[0]?.payload, { secret: 1 });
  assert.equal(debug.lines[1]?.payload, undefined);
});

test('levels filter lines; LOG_LEVEL names are case-insensitive and unknown ones mean INFO', () => {
  const { log, lines } = capture('warn');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(
    lines.map((l) => l.level),
    ['WARN', 'ERROR'],
  );
  assert.equal(parseLogLevel('Debug'), 'DEBUG');
  assert.equal(parseLogLevel('warning'), 'WARN');
  assert.equal(parseLogLevel('loud'), 'INFO');
  assert.equal(parseLogLevel(undefined), 'INFO');
});

test('errors are logged with name, message and cause; a cyclic key does not throw', () => {
  const { log, lines } = capture();
  log.error('failed', { error: new InvalidRequestError('vcpus: bad', { cause: new Error('inner') }) });
  const err = lines[0]?.error as Record<string, unknown>;
  assert.equal(err.name, 'InvalidRequestError');
  assert.equal(err.message, 'vcpus: bad');
  assert.deepEqual(err.cause, { name: 'Error', message: 'inner' });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  log.info('odd', { cyclic });
  assert.equal(lines[1]?.message, 'odd');
});
