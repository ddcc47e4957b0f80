// The function's log lines in each of Lambda's formats (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL), one row
// per client, format and level; the Node.js rows hold for the official client too where it runs here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fx, runCli } from './helpers.js';
import { officialNodeClient } from './official-node.js';

const fn = fx('parity-fn');
const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const MS = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

type Json = Record<string, unknown>;
interface Row {
  client: 'python' | 'node';
  format?: 'JSON' | 'Text';
  level?: string;
  handler: string;
  payload?: string;
  /** text rows: regexes that must match a whole line */
  lines?: RegExp[];
  /** JSON rows: each must match (as a subset) one parsed JSON line */
  json?: ((line: Json) => boolean)[];
  absent?: RegExp[];
}

const hasKeys = (line: Json, fields: Json) =>
  Object.entries(fields).every(([k, v]) => (v instanceof RegExp ? v.test(String(line[k])) : line[k] === v));

const rows: Row[] = [
  {
    client: 'python',
    handler: 'py.logs',
    lines: [
      new RegExp(`^\\[INFO\\]\\t${MS}\\t${ID}\\ttask started now$`),
      new RegExp(`^\\[WARNING\\]\\t${MS}\\t${ID}\\troot warning$`),
    ],
    absent: [/root debug/],
  },
  {
    client: 'python',
    format: 'JSON',
    level: 'INFO',
    handler: 'py.logs',
    json: [
      (l) =>
        hasKeys(l, {
          timestamp: new RegExp(`^${MS}$`),
          level: 'INFO',
          message: 'task started now',
          logger: 'task',
          requestId: new RegExp(`^${ID}$`),
        }),
      (l) => hasKeys(l, { level: 'WARNING', message: 'root warning', logger: 'root' }),
      (l) =>
        hasKeys(l, {
          level: 'ERROR',
          message: 'failed with',
          errorType: 'KeyError',
          errorMessage: "'boom'",
          item: 7,
        }) &&
        Array.isArray(l.stackTrace) &&
        /py\.py:logs:\d+$/.test(String(l.location)),
    ],
    absent: [/root debug/, /^\[INFO\]/m],
  },
  {
    client: 'python',
    format: 'JSON',
    level: 'TRACE',
    handler: 'py.logs',
    json: [(l) => hasKeys(l, { level: 'DEBUG', message: 'root debug' })],
  },
  {
    client: 'python',
    format: 'JSON',
    handler: 'py.big_error',
    payload: 'data:,{"chars":3}',
    json: [
      (l) =>
        hasKeys(l, {
          timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/,
          level: 'ERROR',
          errorType: 'ValueError',
          errorMessage: 'xxx',
          requestId: new RegExp(`^${ID}$`),
        }) && Array.isArray(l.stackTrace),
    ],
    absent: [/^\[ERROR\]/m],
  },
  {
    client: 'node',
    handler: 'js.logs',
    lines: [
      new RegExp(`^${MS}\\t${ID}\\tINFO\\tinfo line$`),
      new RegExp(`^${MS}\\t${ID}\\tDEBUG\\ta debug line$`),
      new RegExp(`^${MS}\\t${ID}\\tWARN\\ta warning$`),
    ],
  },
  {
    client: 'node',
    format: 'JSON',
    level: 'INFO',
    handler: 'js.logs',
    json: [
      (l) =>
        hasKeys(l, {
          timestamp: new RegExp(`^${MS}$`),
          level: 'INFO',
          requestId: new RegExp(`^${ID}$`),
          message: 'info line',
        }),
      (l) => hasKeys(l, { level: 'WARN', message: 'a warning' }),
    ],
    absent: [/a debug line/],
  },
  {
    client: 'node',
    format: 'JSON',
    level: 'WARN',
    handler: 'js.logs',
    json: [(l) => hasKeys(l, { level: 'WARN', message: 'a warning' })],
    absent: [/info line/, /a debug line/],
  },
  {
    client: 'node',
    format: 'JSON',
    handler: 'js.plainString',
    json: [(l) => l.level === 'ERROR' && JSON.stringify(l).includes('a plain string')],
  },
];

function check(row: Row, stderr: string, label: string): void {
  const lines = stderr.split('\n');
  for (const re of row.lines ?? [])
    assert.ok(
      lines.some((l) => re.test(l)),
      `${label}: no line matches ${re}\n${stderr}`,
    );
  const parsed = lines.flatMap((l) => {
    try {
      const v: unknown = JSON.parse(l);
      return v && typeof v === 'object' ? [v as Json] : [];
    } catch {
      return [];
    }
  });
  for (const [i, pred] of (row.json ?? []).entries()) {
    assert.ok(parsed.some(pred), `${label}: JSON expectation ${i} met by no line\n${stderr}`);
  }
  for (const re of row.absent ?? []) assert.doesNotMatch(stderr, re, label);
}

for (const row of rows) {
  const name = `log format ${row.format ?? 'unset'}, level ${row.level ?? 'unset'}, ${row.client}: ${row.handler}`;
  test(name, async (t) => {
    const env: Record<string, string> = {};
    if (row.format) env.AWS_LAMBDA_LOG_FORMAT = row.format;
    if (row.level) env.AWS_LAMBDA_LOG_LEVEL = row.level;
    const runtime = row.client === 'node' ? ['--runtime', 'nodejs24.x'] : [];
    const args = [...runtime, '--handler', row.handler, fn, row.payload ?? 'data:,{}', '-'];
    check(row, (await runCli(args, { env })).stderr, 'own client');
    if (row.client !== 'node') return;
    const ref = officialNodeClient();
    if ('skip' in ref) {
      t.diagnostic(`reference skipped: ${ref.skip}`);
      return;
    }
    check(row, (await runCli(['--opt-dir', ref.optDir, ...args], { env })).stderr, 'official client');
  });
}
