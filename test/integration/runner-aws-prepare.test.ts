import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { type DeployedFunctionDeps, prepareDeployedFunction } from '../../runner/aws/deployed-function.js';
import { exitCodeOf } from '../../runner/errors.js';
import { createLogger } from '../../runner/log.js';
import {
  ACCOUNT_ID,
  createAlias,
  createFunction,
  createLayer,
  createRole,
  publishVersion,
  REGION,
} from './harness/fixtures.js';
import { type Harness, startHarness } from './harness/index.js';
import { unsafeZip } from './harness/zip.js';

let h: Harness;
let dir: string;
before(async () => {
  h = await startHarness();
  dir = await mkdtemp(join(tmpdir(), 'runner-aws-prepare-'));
});
after(async () => {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
function options(extra: Partial<DeployedFunctionDeps> = {}, lines: string[] = []): DeployedFunctionDeps {
  n += 1;
  return {
    cacheDir: join(dir, `cache-${n}`),
    useCache: true,
    optDir: join(dir, `opt-${n}`),
    log: createLogger('info', (l) => lines.push(l)),
    env: h.env,
    ...extra,
  };
}

const arnOf = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

test('a Python function with a layer: code, layer in the opt dir, env, memory and ARN from GetFunction', async () => {
  const layer = await createLayer(h, 'prep-deps', { 'python/dep.py': 'VALUE = 42\n' });
  await createFunction(h, {
    name: 'prep-py',
    env: { GREETING: 'hello' },
    layers: [layer],
    memory: 512,
    timeout: 90,
  });
  const opts = options();
  const fn = await prepareDeployedFunction('prep-py', opts);
  assert.match(await readFile(join(fn.taskRoot, 'lambda_function.py'), 'utf8'), /def lambda_handler/);
  assert.equal(await readFile(join(opts.optDir, 'python/dep.py'), 'utf8'), 'VALUE = 42\n');
  assert.equal(fn.functionName, 'prep-py');
  assert.equal(fn.functionVersion, '$LATEST');
  assert.equal(fn.invokedFunctionArn, arnOf('prep-py'));
  assert.equal(fn.handler, 'lambda_function.lambda_handler');
  assert.equal(fn.runtime, 'python3.12');
  assert.equal(fn.memorySizeMb, 512);
  assert.equal(fn.timeoutSeconds, 90);
  assert.deepEqual(fn.environment, { GREETING: 'hello' });
  assert.equal(fn.region, REGION);
  // GetLayerVersion with the name and number from the ARN, never GetLayerVersionByArn.
  assert.equal(h.front.calls('lambda', 'GetLayerVersion').length, 1);
  assert.equal(h.front.calls('lambda', 'GetLayerVersionByArn').length, 0);
  await fn.cleanup();
});

test('a second run of the same version downloads nothing', async () => {
  await createFunction(h, { name: 'prep-cached', files: { 'lambda_function.py': '# cached\n' } });
  const opts = options();
  await prepareDeployedFunction('prep-cached', opts);
  h.front.clear();
  const again = await prepareDeployedFunction('prep-cached', { ...opts, optDir: join(dir, 'opt-again') });
  assert.equal(h.front.downloads().length, 0);
  assert.equal(h.front.calls('lambda', 'GetFunction').length, 1);
  assert.equal(await readFile(join(again.taskRoot, 'lambda_function.py'), 'utf8'), '# cached\n');
});

test('a warm run finds its cached layer version without GetLayerVersion; the layer is still in the opt dir and the record', async () => {
  const layer = await createLayer(h, 'prep-warm-deps', { 'python/warm.py': 'W = 1\n' });
  await createFunction(h, {
    name: 'prep-warm',
    layers: [layer],
    files: { 'lambda_function.py': '# warm\n' },
  });
  const opts = options();
  const first = await prepareDeployedFunction('prep-warm', opts);
  h.front.clear();
  const again = await prepareDeployedFunction('prep-warm', { ...opts, optDir: join(dir, 'opt-warm-again') });
  assert.equal(h.front.calls('lambda', 'GetLayerVersion').length, 0, 'a layer version never changes');
  assert.equal(
    h.front.calls('lambda', 'GetFunction').length,
    1,
    'the function may have changed: asked every run',
  );
  assert.equal(h.front.downloads().length, 0);
  assert.equal(await readFile(join(again.optDir, 'python/warm.py'), 'utf8'), 'W = 1\n');
  assert.deepEqual(again.deployed?.layers, first.deployed?.layers);
  // Another endpoint's layer of the same ARN is another layer: the record is not taken for it.
  h.front.clear();
  const elsewhere = { ...h.env, AWS_ENDPOINT_URL_LAMBDA: `${h.env.AWS_ENDPOINT_URL}/` };
  await prepareDeployedFunction('prep-warm', {
    ...opts,
    env: elsewhere,
    optDir: join(dir, 'opt-warm-other'),
  });
  assert.equal(h.front.calls('lambda', 'GetLayerVersion').length, 1);
});

test('two runs of a new version at once both succeed', async () => {
  await createFunction(h, {
    name: 'prep-race',
    files: { 'lambda_function.py': '# race\n', 'lib/x.py': 'x' },
  });
  const opts = options();
  const [a, b] = await Promise.all([
    prepareDeployedFunction('prep-race', opts),
    prepareDeployedFunction('prep-race', { ...opts, optDir: join(dir, 'opt-race-b') }),
  ]);
  assert.equal(a.taskRoot, b.taskRoot);
  assert.equal(await readFile(join(b.taskRoot, 'lib/x.py'), 'utf8'), 'x');
  assert.deepEqual(
    (await readdir(opts.cacheDir)).map((f) => f.replace(/^code-[0-9a-f]{64}/, 'code-…')).sort(),
    ['code-…', 'code-….manifest'],
  );
});

test('a qualified ARN asks GetFunction with the Qualifier and reports the qualified ARN', async () => {
  await createFunction(h, { name: 'prep-versioned', files: { 'lambda_function.py': '# v1\n' } });
  const version = await publishVersion(h, 'prep-versioned');
  await createAlias(h, 'prep-versioned', 'live', version);
  h.front.clear();
  const byAlias = await prepareDeployedFunction(`${arnOf('prep-versioned')}:live`, options());
  const call = h.front.calls('lambda', 'GetFunction')[0];
  assert.equal(call?.query.get('Qualifier'), 'live');
  assert.equal(byAlias.invokedFunctionArn, `${arnOf('prep-versioned')}:live`);
  assert.equal(byAlias.functionVersion, version);
  const byVersion = await prepareDeployedFunction(`prep-versioned:${version}`, options());
  assert.equal(byVersion.invokedFunctionArn, `${arnOf('prep-versioned')}:${version}`);
});

test('tampered code is refused with exit 3 and nothing is extracted', async () => {
  await createFunction(h, { name: 'prep-tampered', files: { 'lambda_function.py': '# t\n' } });
  h.front.codeFault('prep-tampered', { kind: 'wrong-bytes' });
  const opts = options();
  await assert.rejects(prepareDeployedFunction('prep-tampered', opts), (err: Error) => {
    assert.equal(err.name, 'ChecksumMismatchError');
    assert.equal(exitCodeOf(err), 3);
    return true;
  });
  assert.deepEqual(await readdir(opts.cacheDir), []);
});

for (const kind of ['dotdot', 'symlink-escape', 'through-symlink'] as const) {
  test(`an unsafe zip (${kind}) is refused with exit 3 and nothing is written`, async () => {
    const name = `prep-unsafe-${kind}`;
    const zip = unsafeZip(kind);
    await createFunction(h, { name, zip });
    const opts = options();
    await assert.rejects(prepareDeployedFunction(name, opts), (err: Error) => {
      assert.equal(err.name, 'UnsafeArchiveError');
      assert.equal(exitCodeOf(err), 3);
      return true;
    });
    assert.deepEqual(await readdir(opts.cacheDir), []);
    assert.equal(existsSync(join(dir, 'escaped.txt')), false);
  });
}

test('an expired code URL gets one fresh GetFunction and the download passes', async () => {
  await createFunction(h, { name: 'prep-expired', files: { 'lambda_function.py': '# e\n' } });
  h.front.codeFault('prep-expired', { kind: 'expire-once' });
  h.front.clear();
  const lines: string[] = [];
  const fn = await prepareDeployedFunction('prep-expired', options({}, lines));
  assert.equal(h.front.calls('lambda', 'GetFunction').length, 2);
  assert.deepEqual(
    h.front.downloads().map((d) => d.status),
    [403, 200],
  );
  assert.ok(existsSync(join(fn.taskRoot, 'lambda_function.py')));
  assert.ok(lines.some((l) => /expired/.test(l)));
});

test('an unknown function fails with exit 3 naming it', async () => {
  await assert.rejects(prepareDeployedFunction('prep-no-such-function', options()), (err: Error) => {
    assert.equal(err.name, 'FunctionNotFoundError');
    assert.equal(exitCodeOf(err), 3);
    assert.match(err.message, /prep-no-such-function/);
    return true;
  });
});

test('access denied names the function and the missing permission', async () => {
  await createFunction(h, { name: 'prep-denied' });
  const f = h.front.fault({
    match: (r) => r.operation === 'GetFunction',
    kind: 'error',
    status: 403,
    code: 'AccessDeniedException',
  });
  try {
    await assert.rejects(prepareDeployedFunction('prep-denied', options()), (err: Error) => {
      assert.equal(err.name, 'FunctionPrepareError');
      assert.match(err.message, /prep-denied.*lambda:GetFunction/);
      return true;
    });
  } finally {
    f.remove();
  }
});

test('with the cache off, the code goes to a temp folder that cleanup removes', async () => {
  await createFunction(h, { name: 'prep-nocache' });
  const opts = options({ useCache: false });
  const fn = await prepareDeployedFunction('prep-nocache', opts);
  assert.ok((await stat(fn.taskRoot)).isDirectory());
  assert.equal(existsSync(opts.cacheDir), false);
  await fn.cleanup();
  assert.equal(existsSync(fn.taskRoot), false);
});

test('a later layer overrides an earlier one in the opt dir, in the function order', async () => {
  const first = await createLayer(h, 'prep-first', { 'python/which.py': 'first', 'python/a.py': 'a' });
  const second = await createLayer(h, 'prep-second', { 'python/which.py': 'second' });
  await createFunction(h, { name: 'prep-layers', layers: [first, second] });
  const opts = options();
  await prepareDeployedFunction('prep-layers', opts);
  assert.equal(await readFile(join(opts.optDir, 'python/which.py'), 'utf8'), 'second');
  assert.equal(await readFile(join(opts.optDir, 'python/a.py'), 'utf8'), 'a');
});

const otherArch = process.arch === 'arm64' ? 'x86_64' : 'arm64';
const hostArch = process.arch === 'arm64' ? 'arm64' : 'x86_64';

test("a function built for another machine's architecture is refused (exit 3) before its code or layers are downloaded", async () => {
  const layer = await createLayer(h, 'prep-arch-deps', { 'python/dep.py': 'VALUE = 1\n' });
  await createFunction(h, { name: 'prep-arch', architectures: [otherArch], layers: [layer] });
  h.front.clear();
  const opts = options({ env: { ...h.env, RUN_LAMBDA_IMAGE: 'cirrusgeo/run-lambda:1.2.3-python3.12' } });
  const err = await prepareDeployedFunction('prep-arch', opts).then(
    () => assert.fail('an arm64 function ran on x86_64'),
    (e: Error) => e,
  );
  assert.equal(err.name, 'ArchitectureMismatchError');
  assert.equal(exitCodeOf(err), 3);
  assert.match(err.message, new RegExp(`built for ${otherArch} but this machine is ${hostArch}`));
  assert.match(err.message, new RegExp(`cirrusgeo/run-lambda:1\\.2\\.3-python3\\.12-${otherArch}`));
  assert.equal(h.front.downloads().length, 0, 'no code was fetched');
  assert.equal(h.front.calls('lambda', 'GetLayerVersion').length, 0, 'no layer was asked for');
  assert.equal(existsSync(opts.optDir), false);
});

test('--ignore-architecture runs a function of another architecture with one warning', async () => {
  await createFunction(h, { name: 'prep-arch-ignored', architectures: [otherArch] });
  const lines: string[] = [];
  const fn = await prepareDeployedFunction('prep-arch-ignored', options({ ignoreArchitecture: true }, lines));
  assert.equal(fn.architecture, otherArch);
  assert.match(await readFile(join(fn.taskRoot, 'lambda_function.py'), 'utf8'), /def lambda_handler/);
  assert.equal(lines.filter((l) => l.includes(`built for ${otherArch}`)).length, 1);
  assert.match(lines.join(''), /running it anyway \(--ignore-architecture\)/);
  await fn.cleanup();
});

test("a function of this machine's architecture (or none named, Lambda's x86_64) runs without a word about it", async () => {
  await createFunction(h, { name: 'prep-arch-host', architectures: [hostArch] });
  const lines: string[] = [];
  const fn = await prepareDeployedFunction('prep-arch-host', options({}, lines));
  assert.equal(fn.architecture, hostArch);
  assert.ok(!lines.some((l) => l.includes('built for')));
  await fn.cleanup();
});

test('without a region in the env or the ARN, the error says how to give one', async () => {
  const env = { ...h.env, AWS_REGION: '', AWS_DEFAULT_REGION: '' };
  await assert.rejects(prepareDeployedFunction('prep-py', options({ env })), /AWS_REGION/);
});

test('a container image function is refused with exit 3 saying how it runs (its own image beside run-lambda --external-runtime)', async () => {
  const role = await createRole(h);
  await h.clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'prep-image',
      Role: role,
      PackageType: 'Image',
      Code: { ImageUri: `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/my-task:latest` },
    }),
  );
  await assert.rejects(prepareDeployedFunction('prep-image', options()), (err: Error) => {
    assert.equal(err.name, 'FunctionPrepareError');
    assert.equal(exitCodeOf(err), 3);
    assert.match(
      err.message,
      /container image function \(.*my-task:latest\): it runs in its own image, as the job of two containers the dispatcher submits for it \(that image beside run-lambda --external-runtime\)/,
    );
    return true;
  });
});

test('a tampered layer is refused with exit 3 naming the layer, and no layer is extracted', async () => {
  const layer = await createLayer(h, 'prep-bad-layer', { 'python/bad.py': 'x = 1\n' });
  await createFunction(h, { name: 'prep-bad-layer-fn', layers: [layer] });
  h.front.codeFault('prep-bad-layer', { kind: 'wrong-bytes' });
  const opts = options();
  await assert.rejects(prepareDeployedFunction('prep-bad-layer-fn', opts), (err: Error) => {
    assert.equal(err.name, 'ChecksumMismatchError');
    assert.match(err.message, /layer prep-bad-layer:1/);
    return true;
  });
  assert.deepEqual(
    (await readdir(opts.cacheDir)).filter((f) => !f.startsWith('code-')),
    [],
  );
  assert.equal(existsSync(opts.optDir), false);
});

test('one layer failing: the run fails only once its sibling layers have stopped writing into the cache (no lock, temp zip or half folder)', async () => {
  // A sibling with thousands of files is still being extracted (which cannot be interrupted) when the
  // other layer's download, held back a little, is refused.
  const many: Record<string, string> = {};
  for (let i = 0; i < 4000; i++) many[`python/pkg/m${i}.py`] = `V = ${i}\n`;
  const slow = await createLayer(h, 'prep-settle-slow', many);
  const bad = await createLayer(h, 'prep-settle-bad', { 'python/bad.py': 'x = 1\n' });
  await createFunction(h, { name: 'prep-settle-fn', layers: [slow, bad] });
  const held = h.front.fault({
    match: (r) => r.service === 'code' && r.code?.target === 'prep-settle-bad:1',
    kind: 'latency',
    ms: 150,
  });
  h.front.codeFault('prep-settle-bad', { kind: 'wrong-bytes' });
  const opts = options();
  await assert.rejects(
    prepareDeployedFunction('prep-settle-fn', opts),
    /ChecksumMismatchError: the layer prep-settle-bad:1/,
  );
  // Looked at the moment the failure is reported: only finished entries (and the record of a finished layer
  // version, runner/aws/layer-index.ts) may be there.
  const left = (await readdir(opts.cacheDir)).filter(
    (f) => !/^((code|layer)-[0-9a-f]{64}(\.manifest)?|\.layer-version-[0-9a-f]{64})$/.test(f),
  );
  held.remove();
  h.front.clearFaults();
  assert.deepEqual(left, []);
});
