// JSON text from outside is parsed by lib/json-text.ts, whose error says where the parser stopped and never quotes the text;
// the logger cuts any parser's quote of its input out of a line above debug.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonText } from '../../lib/json-text.js';
import { createJsonLogger } from '../../lib/logger.js';

const SECRET = 'tok-5ecret-do-not-log';
/** What must never show: V8 quotes only a window of a long input (`"tok-5ecret"...`), so a piece of it. */
const PIECE = '5ecret';

test('text that is not JSON: a JsonTextError with its length and the parser’s offset, and not a word of the text', () => {
  const cases: [string, RegExp][] = [
    [SECRET, /^not JSON \(21 characters\)$/],
    [`{"a": ${SECRET}}`, /^not JSON \(\d+ characters(; the parser stopped at offset \d+)?\)$/],
    [`{"a": "${SECRET}"} x`, /^not JSON \(\d+ characters; the parser stopped at offset \d+\)$/],
    [`["${SECRET}`, /^not JSON \(\d+ characters; the parser stopped at offset \d+\)$/],
    [`{"a": ["${SECRET}", `, /^not JSON \(\d+ characters; it ends before its JSON does\)$/],
  ];
  for (const [text, message] of cases)
    assert.throws(
      () => parseJsonText(text),
      (err: Error) => {
        assert.equal(err.name, 'JsonTextError');
        assert.ok(err instanceof SyntaxError);
        assert.match(err.message, message);
        assert.ok(!`${err.message}${err.stack}`.includes(PIECE), err.message);
        assert.equal(err.cause, undefined);
        return true;
      },
    );
  assert.deepEqual(parseJsonText('{"a": [1, "x"]}'), { a: [1, 'x'] });
});

test("a parser's own SyntaxError logged above debug loses what it quoted (message, stack and cause); at debug it stays", () => {
  let raw: Error | undefined;
  try {
    JSON.parse(SECRET);
  } catch (err) {
    raw = err as Error;
  }
  assert.ok(raw?.message.includes(PIECE), 'JSON.parse quotes its input');
  for (const level of ['info', 'debug']) {
    const lines: string[] = [];
    const log = createJsonLogger({ service: 's', level, write: (l) => lines.push(l) });
    log.error('failed', { error: raw });
    log.warn('wrapped', { error: new Error('could not read it', { cause: raw }) });
    log.debug('detail', { error: raw });
    const above = lines.filter((l) => !l.includes('"DEBUG"')).join('');
    assert.ok(!above.includes(PIECE), above);
    assert.match(above, /Unexpected token \(the input it quoted is left out\)/);
    if (level === 'debug') assert.ok(lines.some((l) => l.includes('"DEBUG"') && l.includes(PIECE)));
  }
});
