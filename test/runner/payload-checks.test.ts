// Payloads Lambda would never hand a function, through both own clients: each ends cleanly (exit 2 with
// InvalidPayloadError, or a marshal error), and no line above debug quotes the payload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fx, runCli } from './helpers.js';

const fn = fx('parity-fn');
const clients = [
  { name: 'python', handler: 'py.echo' },
  { name: 'node', handler: 'js.echo' },
] as const;

const deep = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);

/** payload → how each client must end: exit code and a last-line pattern. */
const cases: { name: string; payload: Buffer; python: [number, RegExp]; node: [number, RegExp] }[] = [
  {
    name: 'NaN',
    payload: Buffer.from('{"a": NaN}'),
    python: [2, /^InvalidPayloadError: the payload is not JSON: NaN is not valid JSON$/],
    node: [2, /^InvalidPayloadError: the payload is not JSON/],
  },
  {
    name: 'Infinity and -Infinity',
    payload: Buffer.from('[Infinity, -Infinity]'),
    python: [2, /^InvalidPayloadError: the payload is not JSON: Infinity is not valid JSON$/],
    node: [2, /^InvalidPayloadError: the payload is not JSON/],
  },
  {
    name: 'invalid UTF-8',
    payload: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    python: [2, /^InvalidPayloadError: the payload is not JSON: the event is not valid UTF-8 \(at byte 6\)$/],
    node: [2, /^InvalidPayloadError: the payload is not JSON: the event is not valid UTF-8$/],
  },
  {
    // Python's parser recurses: a clean UnmarshalError, not a traceback. Node's parses it, and its
    // serializer is what gives up on the echoed result: a clean marshal error.
    name: '100,000-deep nesting',
    payload: deep,
    python: [
      2,
      /^InvalidPayloadError: the payload is not JSON: the event nests deeper than the Python JSON parser can follow/,
    ],
    node: [1, /^Runtime\.JSONStringifyError: Unable to stringify response body$/],
  },
  {
    name: 'a secret in text that is not JSON',
    payload: Buffer.from('{"password": hunter2-SECRET}'),
    python: [
      2,
      /^InvalidPayloadError: the payload is not JSON: Expecting value: line 1 column 14 \(char 13\)$/,
    ],
    node: [2, /^InvalidPayloadError: the payload is not JSON/],
  },
];

for (const c of cases) {
  for (const client of clients) {
    test(`payload check, ${client.name}: ${c.name}`, async () => {
      const [code, last] = c[client.name];
      const r = await runCli(['--handler', client.handler, fn, '-'], { input: c.payload });
      assert.equal(r.code, code, r.stderr.slice(-1000));
      assert.match(r.last, last);
      assert.doesNotMatch(r.stderr, /Traceback|RecursionError/);
      assert.doesNotMatch(r.stderr, /hunter2|SECRET/, 'payload text in the log');
      assert.equal(r.stdout, '');
    });
  }
}
