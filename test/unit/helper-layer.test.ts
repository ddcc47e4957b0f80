// dist/layer as Lambda unpacks it: the package's files and manifest, types that match the code, no SDK on load.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const pkg = `${root}dist/layer/nodejs/node_modules/cirrus-batch/`;

test('the layer holds the Node package and the Python module where Lambda looks for them', async () => {
  assert.ok(existsSync(pkg), 'run `npm run build` first');
  const manifest = JSON.parse(await readFile(`${pkg}package.json`, 'utf8'));
  assert.equal(manifest.name, 'cirrus-batch');
  assert.deepEqual(manifest.exports['.'], {
    types: './index.d.ts',
    import: './index.mjs',
    require: './index.cjs',
  });
  for (const f of ['index.mjs', 'index.cjs', 'index.d.ts']) assert.ok(existsSync(`${pkg}${f}`), f);
  assert.deepEqual(await readdir(`${root}dist/layer/python`), ['cirrus_batch.py']);
  assert.equal(
    await readFile(`${root}dist/layer/python/cirrus_batch.py`, 'utf8'),
    await readFile(`${root}functions/helper/python/cirrus_batch.py`, 'utf8'),
  );
});

test('the ESM entry loads no AWS SDK until a job is submitted, and the bundle carries no SDK code', async () => {
  const entry = await readFile(`${pkg}index.mjs`, 'utf8');
  assert.doesNotMatch(entry, /@aws-sdk/);
  const chunks = await readdir(`${pkg}chunks`);
  const texts = await Promise.all(chunks.map((c) => readFile(`${pkg}chunks/${c}`, 'utf8')));
  assert.ok(
    texts.some((t) => /from "@aws-sdk\/client-lambda"/.test(t)),
    'the SDK stays an external import',
  );
  assert.ok(
    texts.every((t) => !/class LambdaClient\b/.test(t)),
    'no SDK bundled in',
  );
});

test('the ESM and CommonJS entries export the same values the declarations declare', async () => {
  const esm = Object.keys(await import(`${pkg}index.mjs`)).sort();
  const cjs = Object.keys(createRequire(import.meta.url)(`${pkg}index.cjs`)).sort();
  assert.deepEqual(cjs, esm);
  const dts = await readFile(`${pkg}types/functions/helper/index.d.ts`, 'utf8');
  const declared = new Set<string>();
  for (const m of dts.matchAll(/export declare (?:function|const|class) (\w+)/g)) declared.add(m[1]!);
  for (const m of dts.matchAll(/export \{([^}]*)\} from/g))
    for (const name of m[1]!.split(',').map((s) => s.trim()))
      if (name && !name.startsWith('type ')) declared.add(name);
  assert.deepEqual([...declared].sort(), esm);
});

test('a TypeScript feeder type-checks against the layer types alone, options included', async () => {
  const dir = `${root}dist/.helper-consumer/`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(`${dir}node_modules`, { recursive: true });
  await symlink(pkg, `${dir}node_modules/cirrus-batch`);
  await writeFile(
    `${dir}feeder.ts`,
    [
      "import { type BatchJobOptions, isBatchJob, runAsBatchJob, submitBatchJob } from 'cirrus-batch';",
      'const options: BatchJobOptions = { queue: "q", image: "geolambda", name: "n", vcpus: 1, memory: 2048,',
      '  gpus: 0, timeout: 60, attempts: 1, dispatcher: "d" };',
      'export async function handler(event: unknown, context: { invokedFunctionArn: string }) {',
      '  const job = await runAsBatchJob(event, context, options);',
      '  if (job) return job.job_id;',
      '  const answer = await submitBatchJob(event, context.invokedFunctionArn);',
      '  const url: string = answer.url_out;',
      '  // @ts-expect-error only lambda and geolambda are images',
      '  await submitBatchJob(event, "f", { image: "gpu" });',
      '  return isBatchJob() ? url : undefined;',
      '}',
    ].join('\n'),
  );
  const tsconfig = {
    compilerOptions: {
      strict: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      noEmit: true,
      skipLibCheck: false,
      types: [],
    },
    files: ['feeder.ts'],
  };
  await writeFile(`${dir}tsconfig.json`, JSON.stringify(tsconfig));
  await writeFile(`${dir}package.json`, '{"type":"module"}');
  const run = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', dir], {
    encoding: 'utf8',
  });
  await rm(dir, { recursive: true, force: true });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
