// Start-up inside the images with and without the compile cache baked at build time (images/bake-cache.mjs):
// `run --version`, a trivial local run and a trivial remote run against moto, timed inside one container, reported
// (never asserted). What is asserted: the images hold the cache of both halves of the runner (the bundle, which
// images/start.mjs imports, and the AWS half), Node accepts both at a job's start and a job writes no entry, the
// functions' runtimes inherit no compile-cache setting, and NODE_DISABLE_COMPILE_CACHE turns the cache off.
// Gap: the public bases are replaced by stand-ins (support.ts); moto is the AWS, reached over host networking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFunction } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import type { BuiltImage, ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndHarness } from './support.js';

const ROUNDS = 3;
const EVENT = "'data:application/json;base64,e30='"; // {}
const LIB = '/usr/local/lib/run-lambda';

/** The two images the start-up differs in: the runner on its own Node.js, and on the nodejs base's. */
const KINDS = [
  {
    runtime: 'python3.12',
    handler: 'lambda_function.lambda_handler',
    file: 'lambda_function.py',
    empty: 'def lambda_handler(event, context):\n    pass\n',
    // What a Python runtime would hand any Node.js it starts.
    probe: `import os\ndef lambda_handler(event, context):\n    return {"vars": sorted(k for k in os.environ if "COMPILE_CACHE" in k), "dir": None}\n`,
  },
  {
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    file: 'index.js',
    empty: 'exports.handler = async () => {};\n',
    // The runtime's own Node.js: the variables, and whether the cache is on in its process.
    probe: `const m = require('node:module');
exports.handler = async () => ({
  vars: Object.keys(process.env).filter((k) => k.includes('COMPILE_CACHE')).sort(),
  dir: m.getCompileCacheDir?.() ?? null,
});\n`,
  },
] as const;

type Kind = (typeof KINDS)[number];

let h: Harness;
let set: ImageSet;
withImagesAndHarness({}, async (started) => {
  ({ h, set } = started);
  for (const k of KINDS) {
    const name = fnName(k);
    await createFunction(h, { name, runtime: k.runtime, handler: k.handler, files: { [k.file]: k.probe } });
  }
});

const fnName = (k: Kind) => `startup-${k.runtime.replace(/\W/g, '')}`;
const image = (k: Kind): BuiltImage => set.get('lambda', k.runtime);
const remote = (k: Kind) => `run --no-cache ${fnName(k)} ${EVENT} -`;
/** Writes the empty handler at /tmp/fn (a shell line), for `local`. */
const makeLocal = (k: Kind) => `mkdir -p /tmp/fn && printf '%s' '${k.empty}' > /tmp/fn/${k.file}`;
const local = (k: Kind) => `run --runtime ${k.runtime} --handler ${k.handler} /tmp/fn ${EVENT} -`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Runs `cmd` ROUNDS times with and without the cache, interleaved, in one container; milliseconds per run. */
async function timeBoth(k: Kind, cmd: string): Promise<{ cached: number[]; uncached: number[] }> {
  const script = `${makeLocal(k)}
for i in $(seq ${ROUNDS}); do
  for mode in cached uncached; do
    if [ $mode = uncached ]; then export NODE_DISABLE_COMPILE_CACHE=1; else unset NODE_DISABLE_COMPILE_CACHE; fi
    s=$(date +%s%N); ${cmd} >/dev/null 2>&1 || echo "FAILED $mode"; e=$(date +%s%N)
    echo "$mode $(( (e - s) / 1000000 ))"
  done
done`;
  const r = await runIn(image(k), ['sh', '-c', script], { env: h.env, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /FAILED/, r.stdout);
  const pick = (mode: string) =>
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith(`${mode} `))
      .map((l) => Number(l.split(' ')[1]));
  return { cached: pick('cached'), uncached: pick('uncached') };
}

/** Node's line for an entry it used (Node 24 words it "V8 code cache for ESM file://…"). */
const accepted = (file: string) =>
  new RegExp(`cache for (?:ESM )?file://${LIB}/${file.replace(/\./g, '\\.')} was accepted`);

for (const k of KINDS) {
  test(`run-lambda ${k.runtime}: the image holds the compile cache of the bundle and its AWS half, a job's start accepts both, and a job writes no entry`, {
    skip,
  }, async (t) => {
    t.diagnostic(ranOn(image(k)));
    // The cache's files (path, size, time) before and after a --version, a local and a remote run, each with Node's
    // account of the cache on its stderr.
    const script = `list() { find ${LIB}/compile-cache -type f -printf '%P %s %T@\\n' | sort; }
${makeLocal(k)}
list; echo '== version'
NODE_DEBUG_NATIVE=COMPILE_CACHE run --version 2>&1 >/dev/null; echo '== local'
NODE_DEBUG_NATIVE=COMPILE_CACHE ${local(k)} 2>&1 >/dev/null; echo '== remote'
NODE_DEBUG_NATIVE=COMPILE_CACHE ${remote(k)} 2>&1 >/dev/null; echo '== after'
list`;
    const r = await runIn(image(k), ['sh', '-c', script], { env: h.env });
    assert.equal(r.code, 0, r.stderr);
    const [before = '', version = '', localRun = '', remoteRun = '', after = ''] =
      r.stdout.split(/^== \w+\n/m);
    const entries = before.trim().split('\n').filter(Boolean);
    assert.ok(entries.length >= 2, `an entry for each half of the runner, not:\n${before}`);
    assert.match(version, accepted('run-lambda.mjs'), version);
    assert.match(localRun, accepted('run-lambda.mjs'), localRun);
    assert.match(localRun, /result \(\d+ bytes\) written to stdout/, localRun);
    assert.match(remoteRun, accepted('run-lambda.mjs'), remoteRun);
    assert.match(remoteRun, accepted('run-lambda-aws.mjs'), remoteRun);
    assert.equal(after, before, 'a job writes nothing in the baked cache');
    t.diagnostic(`baked entries (path size mtime):\n${before.trim()}`);
  });

  test(`run-lambda ${k.runtime}: the function's runtime inherits no compile-cache setting from the runner`, {
    skip,
  }, async (t) => {
    t.diagnostic(ranOn(image(k)));
    const r = await runIn(image(k), ['sh', '-c', remote(k)], { env: h.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { vars: [], dir: null });
  });
}

test('NODE_DISABLE_COMPILE_CACHE=1 turns the baked cache off for both halves of the runner', {
  skip,
}, async (t) => {
  const k = KINDS[0];
  t.diagnostic(ranOn(image(k)));
  const off = await runIn(image(k), ['sh', '-c', `${remote(k)} 2>&1 >/dev/null`], {
    env: { ...h.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE', NODE_DISABLE_COMPILE_CACHE: '1' },
  });
  assert.doesNotMatch(off.stdout, /was accepted/);
  assert.match(off.stdout, /result \(\d+ bytes\) written to stdout/);
});

for (const k of KINDS)
  test(`start-up in run-lambda ${k.runtime}: run --version, a trivial local run and a trivial remote run, with and without the baked cache (reported)`, {
    skip,
  }, async (t) => {
    t.diagnostic(ranOn(image(k)));
    for (const [what, cmd] of [
      ['run --version', 'run --version'],
      ['trivial local run (empty handler, {} event, stdout)', local(k)],
      ['trivial remote run (GetFunction, code download, a handler that returns 2 fields, stdout)', remote(k)],
    ] as const) {
      const { cached, uncached } = await timeBoth(k, cmd);
      assert.equal(cached.length, ROUNDS);
      const c = median(cached);
      const u = median(uncached);
      t.diagnostic(
        `${what}: median of ${ROUNDS}: ${c} ms with the baked compile cache, ${u} ms without (${(c / u).toFixed(2)}×); all: ${cached.join(' ')} / ${uncached.join(' ')}`,
      );
    }
  });
