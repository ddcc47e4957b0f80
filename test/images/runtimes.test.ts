// Every x86_64 image npm test builds, in a real Docker engine: `run --version`, a deployed function from moto (code plus
// a layer) on each Python, Node.js and OS-only runtime (Java, Ruby and .NET: languages.test.ts), cirrus-v0 compat
// through the image's own client, and a runtime the image does not serve.
// Gap: the public bases are replaced by stand-ins (support.ts); moto is the AWS, reached over host networking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { npmTestArches, readMatrix } from '../../images/matrix.mjs';
import { createFunction, createLayer, getJson, putObject } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import { docker } from './docker.js';
import type { ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndHarness } from './support.js';

const BUCKET = 'image-tests';
const version = (
  JSON.parse(await import('node:fs').then((fs) => fs.readFileSync('package.json', 'utf8'))) as {
    version: string;
  }
).version;

let h: Harness;
let set: ImageSet;
withImagesAndHarness({ bucket: BUCKET }, (started) => {
  ({ h, set } = started);
});

/** `run <args>` in `image` against moto, with the harness's credentials and endpoint. */
function runRemote(image: Parameters<typeof runIn>[0], args: string[], env: Record<string, string> = {}) {
  return runIn(image, ['run', ...args], { env: { ...h.env, ...env } });
}

const PY_TASK = `import sys
import helper  # from the layer: /opt/python

def lambda_handler(event, context):
    return {"echo": event, "python": "%d.%d" % sys.version_info[:2], "layer": helper.NAME,
            "function": context.function_name}
`;

const NODE_TASK = `const { S3Client } = require('@aws-sdk/client-s3'); // the image's SDK, as Lambda's runtimes provide it
const layer = require('layerlib'); // from the layer: /opt/nodejs/node_modules
exports.handler = async (event, context) => ({
  echo: event, node: process.versions.node, layer: layer.NAME, sdk: typeof S3Client, function: context.functionName,
});
`;

// A custom runtime with no language in the image: bash speaking the Runtime API over /dev/tcp.
const BOOTSTRAP = `#!/bin/bash
set -eu
. /opt/lib.sh   # from the layer
host=\${AWS_LAMBDA_RUNTIME_API%:*}; port=\${AWS_LAMBDA_RUNTIME_API#*:}
exec 3<>/dev/tcp/$host/$port
printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3
len=0; id=
while IFS= read -r line <&3; do
  line=\${line%$'\\r'}; [ -z "$line" ] && break
  case "\${line,,}" in
    content-length:*) len=\${line#*: } ;;
    lambda-runtime-aws-request-id:*) id=\${line#*: } ;;
  esac
done
event=$(head -c "$len" <&3)
body="{\\"custom\\":true,\\"layer\\":\\"$LAYER_NAME\\",\\"event\\":$event}"
exec 4<>/dev/tcp/$host/$port
printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: %d\\r\\n\\r\\n%s' "$id" "\${#body}" "$body" >&4
read -r status <&4
sleep 30
`;

/** The families whose deployed functions this file runs; the other languages run from folders (languages.test.ts). */
const DEPLOYED_FAMILIES = ['python', 'nodejs', 'provided'];

for (const entry of readMatrix().images.filter((e) => npmTestArches(e).includes('x86_64'))) {
  const name = `${entry.flavour}-${entry.runtime.replace(/\W/g, '')}`;
  const family = entry.runtime.replace(/\d.*$/, '');

  test(`${entry.repository} ${entry.runtime}: run --version prints the version, and the image names its runtime, architecture and stand-in`, {
    skip,
  }, async (t) => {
    const image = set.get(entry.flavour, entry.runtime);
    t.diagnostic(ranOn(image));
    const r = await runIn(image, ['run', '--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `run-lambda ${version}`);
    const env = await runIn(image, [
      'sh',
      '-c',
      'echo "$RUN_LAMBDA_IMAGE_RUNTIME $RUN_LAMBDA_IMAGE $AWS_EXECUTION_ENV"',
    ]);
    assert.equal(env.stdout.trim(), `${entry.runtime} ${image.name} AWS_Lambda_${entry.runtime}`);
    assert.equal(image.name, `run-lambda-test/${entry.repository}:${version}-${entry.runtime}`);
    assert.equal(image.tags[0], `${image.name}-x86_64`);
    const inspect = await docker([
      'image',
      'inspect',
      '--format',
      '{{.Architecture}}|{{index .Config.Labels "run-lambda.standin"}}',
      image.id,
    ]);
    const [arch, label] = inspect.stdout.trim().split('|');
    assert.equal(arch, 'amd64');
    assert.match(label ?? '', /^stand-in of /, 'the image says what its base stands in for');
    t.diagnostic(`label run-lambda.standin: ${label}`);
  });

  if (DEPLOYED_FAMILIES.includes(family))
    test(`${entry.repository} ${entry.runtime}: a function deployed on moto (code plus a layer) runs and its result reaches S3`, {
      skip,
    }, async (t) => {
      const image = set.get(entry.flavour, entry.runtime);
      t.diagnostic(ranOn(image));
      const fn = `img-${name}`;
      let layer: string;
      let spec: Parameters<typeof createFunction>[1];
      if (family === 'python') {
        layer = await createLayer(h, `${fn}-layer`, { 'python/helper.py': `NAME = "py-layer"\n` }, [
          entry.runtime,
        ]);
        spec = {
          name: fn,
          runtime: entry.runtime,
          files: { 'lambda_function.py': PY_TASK },
          layers: [layer],
        };
      } else if (family === 'nodejs') {
        layer = await createLayer(
          h,
          `${fn}-layer`,
          {
            'nodejs/node_modules/layerlib/index.js': `exports.NAME = 'node-layer';\n`,
          },
          [entry.runtime],
        );
        spec = {
          name: fn,
          runtime: entry.runtime,
          handler: 'index.handler',
          files: { 'index.js': NODE_TASK },
          layers: [layer],
        };
      } else {
        layer = await createLayer(h, `${fn}-layer`, { 'lib.sh': `LAYER_NAME=sh-layer\n` }, [entry.runtime]);
        spec = {
          name: fn,
          runtime: entry.runtime,
          handler: 'unused',
          files: { bootstrap: { content: BOOTSTRAP, mode: 0o755 } },
          layers: [layer],
        };
      }
      await createFunction(h, spec);
      await putObject(h, BUCKET, `${fn}/in.json`, { hello: entry.runtime });
      const r = await runRemote(image, [fn, `s3://${BUCKET}/${fn}/in.json`, `s3://${BUCKET}/${fn}/out.json`]);
      assert.equal(r.code, 0, r.stderr);
      const out = (await getJson(h, BUCKET, `${fn}/out.json`)) as Record<string, unknown>;
      if (family === 'python') {
        assert.deepEqual(out.echo, { hello: entry.runtime });
        assert.equal(out.layer, 'py-layer');
        assert.equal(out.function, fn);
        assert.match(r.stderr, /served by the image's runtime client/);
        t.diagnostic(`the stand-in's Python is ${out.python}`);
      } else if (family === 'nodejs') {
        assert.deepEqual(out.echo, { hello: entry.runtime });
        assert.equal(out.layer, 'node-layer');
        assert.equal(out.sdk, 'function');
        assert.equal(String(out.node).split('.')[0], entry.runtime.replace(/^nodejs(\d+)\.x$/, '$1'));
        assert.match(r.stderr, /served by the image's runtime client/);
      } else {
        assert.deepEqual(out, { custom: true, layer: 'sh-layer', event: { hello: entry.runtime } });
        assert.match(r.stderr, /served by bootstrap in the task root/);
      }
    });

  test(`${entry.repository} ${entry.runtime}: a function of another runtime is refused, exit 3, naming the image to use`, {
    skip,
  }, async (t) => {
    const image = set.get(entry.flavour, entry.runtime);
    t.diagnostic(ranOn(image));
    const other = entry.runtime === 'python3.13' ? 'python3.12' : 'python3.13';
    const fn = `img-mismatch-${name}`;
    await createFunction(h, { name: fn, runtime: other });
    const r = await runRemote(image, [fn, 'data:application/json;base64,e30=', '-']);
    assert.equal(r.code, 3, r.stderr);
    const use = `${image.name.slice(0, -entry.runtime.length)}${other}`;
    assert.equal(
      r.lastLine,
      `RuntimeNotAvailableError: ${fn} runs on ${other} but this image (${image.name}) serves ${entry.runtime}: run it in ${use}`,
    );
    assert.doesNotMatch(r.stderr, /served by/, 'no runtime was started');
  });
}

const V0_TASK = `def handler(payload, context=None):
    # cirrusgeo/run-lambda 0.2 called handler(payload): feeders read a missing context as "in Batch"
    return {"payload": payload, "context": context is not None}
`;

for (const runtime of ['python3.12', 'python3.13']) {
  test(`run-lambda ${runtime}: --compat cirrus-v0 calls a v0 task with the event alone through the image's own client`, {
    skip,
  }, async (t) => {
    const image = set.get('lambda', runtime);
    t.diagnostic(ranOn(image));
    const fn = `img-v0-${runtime.replace('.', '')}`;
    await createFunction(h, { name: fn, runtime, handler: 'task.handler', files: { 'task.py': V0_TASK } });
    await putObject(h, BUCKET, `${fn}/in.json`, { id: 'v0' });
    const r = await runRemote(image, ['--compat', 'cirrus-v0', fn, `s3://${BUCKET}/${fn}/in.json`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /served by the image's runtime client/);
    assert.deepEqual(await getJson(h, BUCKET, `${fn}/in_out.json`), {
      payload: { id: 'v0' },
      context: false,
    });
    // Without compat the same client passes a context, and the function's own RUN_LAMBDA_COMPAT is not honoured.
    const fn2 = `${fn}-own-env`;
    await createFunction(h, {
      name: fn2,
      runtime,
      handler: 'task.handler',
      files: { 'task.py': V0_TASK },
      env: { RUN_LAMBDA_COMPAT: 'cirrus-v0' },
    });
    const plain = await runRemote(image, [fn2, `s3://${BUCKET}/${fn}/in.json`, '-']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(JSON.parse(plain.stdout), { payload: { id: 'v0' }, context: true });
  });
}

test('run-lambda python3.12: under --compat cirrus-v0 a failing task and a missing module read as they do without it', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.12');
  t.diagnostic(ranOn(image));
  const cases = [
    {
      handler: 'task.handler',
      files: { 'task.py': 'def handler(p, c=None):\n    raise ValueError("bad band")\n' },
    },
    { handler: 'missing.handler', files: { 'task.py': 'x = 1\n' } },
    { handler: 'task.nothing', files: { 'task.py': 'x = 1\n' } },
    { handler: 'task.handler', files: { 'task.py': 'def handler(:\n' } },
  ];
  for (const [i, c] of cases.entries()) {
    const fn = `img-v0-fail-${i}`;
    await createFunction(h, { name: fn, runtime: 'python3.12', ...c });
    const plain = await runRemote(image, [fn, 'data:application/json;base64,e30=', '-']);
    const compat = await runRemote(image, [
      '--compat',
      'cirrus-v0',
      fn,
      'data:application/json;base64,e30=',
      '-',
    ]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.equal(compat.code, 1, compat.stderr);
    assert.equal(compat.lastLine, plain.lastLine, `${c.handler}: compat and plain read the same`);
    assert.doesNotMatch(compat.lastLine, /run_lambda_compat/);
    t.diagnostic(`${c.handler}: ${plain.lastLine}`);
  }
});

test('run-lambda nodejs22.x: --compat cirrus-v0 calls a Node.js handler with the event alone; a missing module names the real one', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'nodejs22.x');
  t.diagnostic(ranOn(image));
  const src = 'exports.handler = async (event, context) => ({ event, context: context !== undefined });\n';
  await createFunction(h, {
    name: 'img-v0-node',
    runtime: 'nodejs22.x',
    handler: 'task.handler',
    files: { 'task.js': src },
  });
  const r = await runRemote(image, [
    '--compat',
    'cirrus-v0',
    'img-v0-node',
    'data:application/json;base64,eyJhIjoxfQ==',
    '-',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /served by the image's runtime client/);
  assert.deepEqual(JSON.parse(r.stdout), { event: { a: 1 }, context: false });
  await createFunction(h, {
    name: 'img-v0-node-missing',
    runtime: 'nodejs22.x',
    handler: 'gone.handler',
    files: { 'task.js': src },
  });
  const plain = await runRemote(image, ['img-v0-node-missing', 'data:application/json;base64,e30=', '-']);
  const compat = await runRemote(image, [
    '--compat',
    'cirrus-v0',
    'img-v0-node-missing',
    'data:application/json;base64,e30=',
    '-',
  ]);
  assert.equal(plain.code, 1, plain.stderr);
  assert.equal(compat.lastLine, plain.lastLine);
  assert.match(compat.lastLine, /^Runtime\.ImportModuleError: .*'gone'/);
});
