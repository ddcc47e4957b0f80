// Start-up inside the image with and without the compile cache baked at build time (images/bake-aws.mjs):
// `run --version` and a trivial remote run against moto, timed inside one container, reported (never asserted).
// What is asserted: the runner uses the baked cache (Node accepts it), and NODE_DISABLE_COMPILE_CACHE turns it off.
// Gap: the public bases are replaced by stand-ins (support.ts); moto is the AWS, reached over host networking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFunction } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import type { ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndHarness } from './support.js';

const ROUNDS = 7;

let h: Harness;
let set: ImageSet;
withImagesAndHarness({}, async (started) => {
  ({ h, set } = started);
  await createFunction(h, { name: 'startup-echo' });
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Runs `cmd` ROUNDS times with and without the cache, interleaved, in one container; milliseconds per run. */
async function timeBoth(cmd: string): Promise<{ cached: number[]; uncached: number[] }> {
  const script = `for i in $(seq ${ROUNDS}); do
  for mode in cached uncached; do
    if [ $mode = uncached ]; then export NODE_DISABLE_COMPILE_CACHE=1; else unset NODE_DISABLE_COMPILE_CACHE; fi
    s=$(date +%s%N); ${cmd} >/dev/null 2>&1 || echo "FAILED $mode"; e=$(date +%s%N)
    echo "$mode $(( (e - s) / 1000000 ))"
  done
done`;
  const r = await runIn(set.get('lambda', 'python3.12'), ['sh', '-c', script], {
    env: h.env,
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /FAILED/, r.stdout);
  const pick = (mode: string) =>
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith(`${mode} `))
      .map((l) => Number(l.split(' ')[1]));
  return { cached: pick('cached'), uncached: pick('uncached') };
}

const REMOTE = "run --no-cache startup-echo 'data:application/json;base64,e30=' -";

test('the runner imports its AWS half from the baked compile cache, and NODE_DISABLE_COMPILE_CACHE=1 turns it off', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.12');
  t.diagnostic(ranOn(image));
  const cmd = ['sh', '-c', `${REMOTE} 2>&1 >/dev/null`];
  const on = await runIn(image, cmd, { env: { ...h.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  assert.match(
    on.stdout,
    /cache for file:\/\/\/usr\/local\/lib\/run-lambda\/run-lambda-aws\.mjs was accepted/,
    on.stdout,
  );
  const off = await runIn(image, cmd, {
    env: { ...h.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE', NODE_DISABLE_COMPILE_CACHE: '1' },
  });
  assert.doesNotMatch(off.stdout, /was accepted/);
  assert.match(off.stdout, /result \(\d+ bytes\) written to stdout/);
});

test('start-up in the image: run --version and a trivial remote run, with and without the baked cache (reported)', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.12');
  t.diagnostic(ranOn(image));
  for (const [what, cmd] of [
    ['run --version', 'run --version'],
    ['trivial remote run (GetFunction, code download, python3 echo, stdout)', REMOTE],
  ] as const) {
    const { cached, uncached } = await timeBoth(cmd);
    assert.equal(cached.length, ROUNDS);
    const c = median(cached);
    const u = median(uncached);
    t.diagnostic(
      `${what}: median of ${ROUNDS}: ${c} ms with the baked compile cache, ${u} ms without (${(c / u).toFixed(2)}×); all: ${cached.join(' ')} / ${uncached.join(' ')}`,
    );
  }
});
