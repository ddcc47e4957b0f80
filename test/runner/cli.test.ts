import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fx, runCli } from './helpers.js';

const py = fx('python-fn');
const payload = fx('payload.json');

/** Bad inputs: arguments → exit code and the last line on stderr (a regex). */
const badInputs: {
  name: string;
  args: string[];
  env?: Record<string, string>;
  code: number;
  last: RegExp;
}[] = [
  { name: 'no arguments', args: [], code: 2, last: /^UsageError: missing <function> and <payload-url>$/ },
  { name: 'missing payload', args: [py], code: 2, last: /^UsageError: missing <payload-url>$/ },
  {
    name: 'too many arguments',
    args: [py, payload, '-', 'extra'],
    code: 2,
    last: /^UsageError: too many arguments: extra$/,
  },
  {
    name: 'unknown flag',
    args: ['--frobnicate', py, payload],
    code: 2,
    last: /^UsageError: unknown option --frobnicate$/,
  },
  { name: 'unknown short flag', args: ['-x', py, payload], code: 2, last: /^UsageError: unknown option -x$/ },
  {
    name: 'flag without value',
    args: [py, payload, '--handler'],
    code: 2,
    last: /^UsageError: option --handler needs a value$/,
  },
  {
    name: 'bad timeout',
    args: ['--timeout', 'soon', py, payload],
    code: 2,
    last: /^UsageError: --timeout must be a positive number/,
  },
  {
    name: 'zero timeout',
    args: ['--timeout=0', py, payload],
    code: 2,
    last: /^UsageError: --timeout must be a positive/,
  },
  {
    name: 'bad compat',
    args: ['--compat', 'cirrus-v9', py, payload],
    code: 2,
    last: /^UsageError: --compat must be cirrus-v0/,
  },
  {
    name: 'bad log level',
    args: ['--log-level', 'loud', py, payload],
    code: 2,
    last: /^UsageError: --log-level must be one of/,
  },
  {
    name: 'bad env twin',
    args: [py, payload],
    env: { RUN_LAMBDA_NO_CACHE: 'maybe' },
    code: 2,
    last: /^UsageError: RUN_LAMBDA_NO_CACHE must be true or false/,
  },
  {
    name: 'bad payload URL scheme',
    args: [py, 'https://example.com/p.json'],
    code: 2,
    last: /^UsageError: unsupported payload URL scheme/,
  },
  {
    name: 'bad output URL scheme',
    args: [py, payload, 'ftp://host/out.json'],
    code: 2,
    last: /^UsageError: unsupported output URL/,
  },
  {
    name: 'bad data URL',
    args: [py, 'data:application/json;base64'],
    code: 2,
    last: /^UsageError: bad data: URL/,
  },
  {
    name: 'payload not JSON',
    args: ['--handler', 'handlers.echo', py, fx('not-json.txt'), '-'],
    code: 2,
    last: /^InvalidPayloadError: the payload is not JSON/,
  },
  {
    name: 'data payload not JSON',
    args: ['--handler', 'index.handler', fx('node-fn'), 'data:,nope'],
    code: 2,
    last: /^InvalidPayloadError: the payload is not JSON/,
  },
  {
    name: 'unknown runtime',
    args: ['--runtime', 'cobol85', py, payload, '-'],
    code: 2,
    last: /^UsageError: unknown runtime "cobol85"/,
  },
  {
    name: 'runtime the runner cannot serve',
    args: ['--runtime', 'java21', '--handler', 'x.y', py, payload, '-'],
    code: 3,
    last: /^RuntimeNotAvailableError: runtime java21 is not available here .*public\.ecr\.aws\/lambda\/java:21/,
  },
  {
    name: 'missing folder',
    args: ['./no/such/folder', payload, '-'],
    code: 3,
    last: /^FunctionNotFoundError: no function code at .*no\/such\/folder$/,
  },
  {
    name: 'missing zip',
    args: ['missing.zip', payload, '-'],
    code: 3,
    last: /^FunctionNotFoundError: no function code at/,
  },
  {
    name: 'no handler in folder',
    args: [fx('empty-fn'), payload, '-'],
    code: 3,
    last: /^FunctionPrepareError: no handler found in .*pass --handler$/,
  },
  {
    name: 'handler module not found',
    args: ['--handler', 'nowhere.handler', py, payload, '-'],
    code: 3,
    last: /^FunctionPrepareError: handler nowhere\.handler not found/,
  },
  {
    name: 'missing payload file (a retry would fail the same way)',
    args: [py, fx('nope.json'), '-'],
    code: 2,
    last: /^PayloadAccessError: cannot read the payload .*nope\.json: no such file$/,
  },
  {
    name: 'payload path through a file',
    args: [py, fx('payload.json', 'x.json'), '-'],
    code: 2,
    last: /^PayloadAccessError: cannot read the payload .*: a part of the path is not a folder$/,
  },
  {
    name: 'payload that is a folder',
    args: [py, fx('python-fn'), '-'],
    code: 2,
    last: /^PayloadAccessError: cannot read the payload .*python-fn: not a file$/,
  },
  {
    name: 'output folder missing',
    args: [py, payload, fx('no-dir', 'out.json')],
    code: 2,
    last: /^InvalidOutputError: cannot write the result to .*no folder/,
  },
  {
    name: 'output that is a folder',
    args: [py, payload, fx('python-fn')],
    code: 2,
    last: /^InvalidOutputError: cannot write the result to .*python-fn: it is a folder$/,
  },
  {
    name: 'output s3 URL without a key',
    args: [py, payload, 's3://some-bucket'],
    code: 2,
    last: /^UsageError: bad output URL: missing object key in s3:\/\/some-bucket$/,
  },
  {
    name: 'output s3 URL with a bad bucket',
    args: [py, payload, 's3://B/k.json'],
    code: 2,
    last: /^UsageError: bad output URL: invalid bucket name/,
  },
  {
    name: 'payload s3 URL without a key',
    args: [py, 's3://some-bucket'],
    code: 2,
    last: /^UsageError: bad payload URL: missing object key/,
  },
  {
    name: 'payload s3 URL ending in / (an item set) without an output',
    args: [py, 's3://some-bucket/'],
    code: 2,
    last: /^UsageError: an item set needs an <output-url> ending in \/ .*got none$/,
  },
  {
    name: 'file URL with a NUL byte (no NUL printed)',
    args: [py, 'file:///a%00b'],
    code: 2,
    last: /^UsageError: bad file URL file:\/\/\/a%00b: the path contains a NUL byte \(%00\)$/,
  },
  {
    name: 'timeout past the longest accepted',
    args: ['--timeout', '1000000001', py, payload],
    code: 2,
    last: /^UsageError: --timeout must be a positive number of seconds up to 1000000000/,
  },
  {
    name: 'timeout that is infinite',
    args: ['--timeout', '9'.repeat(400), py, payload],
    code: 2,
    last: /^UsageError: --timeout must be a positive number/,
  },
  {
    name: 'bad network timeout',
    args: [py, payload],
    env: { RUN_LAMBDA_NETWORK_TIMEOUT: '0' },
    code: 2,
    last: /^UsageError: --network-timeout must be a positive number/,
  },
  {
    name: 'a single-dash long option is not a group of short ones',
    args: ['-handler', 'x.y', py, payload],
    code: 2,
    last: /^UsageError: unknown option -handler$/,
  },
  {
    name: 'unknown option with a value',
    args: ['--frob=1', py, payload],
    code: 2,
    last: /^UsageError: unknown option --frob$/,
  },
  {
    name: '--no-cache with a value',
    args: ['--no-cache=yes', py, payload],
    code: 2,
    last: /^UsageError: option --no-cache takes no value$/,
  },
  {
    name: '--ignore-architecture with a value',
    args: ['--ignore-architecture=1', py, payload],
    code: 2,
    last: /^UsageError: option --ignore-architecture takes no value$/,
  },
  {
    name: 'RUN_LAMBDA_IGNORE_ARCHITECTURE that is no boolean',
    args: [py, payload],
    env: { RUN_LAMBDA_IGNORE_ARCHITECTURE: 'maybe' },
    code: 2,
    last: /^UsageError: RUN_LAMBDA_IGNORE_ARCHITECTURE must be true or false, got "maybe"$/,
  },
  {
    name: 'empty inline value',
    args: ['--opt-dir=', py, payload],
    code: 2,
    last: /^UsageError: option --opt-dir needs a value$/,
  },
  {
    name: 'custom runtime without bootstrap',
    args: ['--runtime', 'provided.al2023', '--handler', 'x.y', py, payload, '-'],
    code: 3,
    last: /^RuntimeNotAvailableError: runtime provided\.al2023 needs a bootstrap/,
  },
];

for (const c of badInputs) {
  test(`bad input: ${c.name} → exit ${c.code}`, async () => {
    const r = await runCli(c.args, { env: c.env });
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.last, c.last);
    assert.equal(r.stdout, '', 'nothing is written to stdout on failure');
  });
}

test('usage errors print the usage text before the last line', async () => {
  const r = await runCli(['--frobnicate']);
  assert.match(r.stderr, /^Usage: run-lambda \[options\] <function> <payload-url> \[<output-url>\]/);
});

test('--help prints the usage on stdout and exits 0', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: run-lambda/);
  assert.match(r.stdout, /--compat cirrus-v0/);
});

test('--version prints the package version', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^run-lambda \d+\.\d+\.\d+\n$/);
});

test('a flag wins over its env twin, and the env twin applies without the flag', async () => {
  const env = { RUN_LAMBDA_HANDLER: 'handlers.none' };
  assert.equal((await runCli([py, payload, '-'], { env })).stdout, 'null');
  const r = await runCli(['--handler', 'handlers.echo', py, payload, '-'], { env });
  assert.deepEqual(JSON.parse(r.stdout), { a: 1 });
});

test('--log-level debug shows each step with its timing', async () => {
  const r = await runCli(['--log-level', 'debug', '--handler', 'handlers.echo', py, payload, '-']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /debug: prepare the function took \d+ ms/);
  assert.match(r.stderr, /debug: invoke took \d+ ms/);
});
