// dist/layer/: the helper layer as Lambda unpacks it under /opt (nodejs/node_modules/cirrus-batch/, python/cirrus_batch.py).
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import * as esbuild from 'esbuild';

const root = new URL('../../', import.meta.url);
const path = (rel) => new URL(rel, root).pathname;
// Built beside dist/layer and swapped in at the end, so a test reading the layer never sees it half-written.
const stage = path(`dist/.layer-${process.pid}/`);
const pkgDir = `${stage}nodejs/node_modules/cirrus-batch/`;

// The Lambda Node.js runtimes (18+) ship the AWS SDK v3, so the layer does not carry it: a few KB, not MBs.
const common = {
  entryPoints: { index: path('functions/helper/index.ts') },
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['@aws-sdk/*'],
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
};

// Only the declarations the public entry reaches: the AWS half (submit.ts, payload-store.ts) stays private.
async function reachable(base, entry) {
  const seen = new Set();
  const visit = async (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const text = await readFile(`${base}${rel}`, 'utf8');
    // `from './x.js'`, and the `import("./x.js")` tsc writes for a type it names in place (an error class's base).
    for (const m of text.matchAll(/(?:from '|import\(")(\.{1,2}\/[^'"]+)\.js['"]/g))
      await visit(posix.normalize(posix.join(posix.dirname(rel), `${m[1]}.d.ts`)));
  };
  await visit(entry);
  return [...seen];
}

// Declarations from the source itself (the helper re-exports lib/ types), so they cannot drift from it.
async function emitTypes() {
  const tmp = path(`dist/.layer-types-${process.pid}/`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const tsconfig = {
    extends: path('tsconfig.json'),
    compilerOptions: {
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: path('.'),
      outDir: `${tmp}out`,
    },
    files: [path('functions/helper/index.ts')],
    include: [],
  };
  await writeFile(`${tmp}tsconfig.json`, JSON.stringify(tsconfig));
  const r = spawnSync(
    process.execPath,
    [path('node_modules/typescript/bin/tsc'), '-p', `${tmp}tsconfig.json`],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`declaration emit for the layer failed:\n${r.stdout}${r.stderr}`);
  for (const rel of await reachable(`${tmp}out/`, 'functions/helper/index.d.ts'))
    await cp(`${tmp}out/${rel}`, `${pkgDir}types/${rel}`);
  await writeFile(`${pkgDir}index.d.ts`, "export * from './types/functions/helper/index.js';\n");
  await rm(tmp, { recursive: true, force: true });
}

export async function build() {
  await rm(stage, { recursive: true, force: true });
  const version = JSON.parse(await readFile(path('package.json'), 'utf8')).version;
  await Promise.all([
    // ESM with splitting: the AWS half (and its SDK imports) stays in a chunk loaded on first submit.
    esbuild.build({
      ...common,
      format: 'esm',
      splitting: true,
      outdir: pkgDir,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
    }),
    esbuild.build({ ...common, format: 'cjs', outfile: `${pkgDir}index.cjs` }),
    emitTypes(),
  ]);
  const manifest = {
    name: 'cirrus-batch',
    version,
    description: 'Re-submit a Lambda function as an AWS Batch job through the lambda-as-batch dispatcher.',
    license: 'Apache-2.0',
    type: 'module',
    main: './index.cjs',
    module: './index.mjs',
    types: './index.d.ts',
    exports: {
      '.': { types: './index.d.ts', import: './index.mjs', require: './index.cjs' },
      './package.json': './package.json',
    },
    peerDependencies: { '@aws-sdk/client-lambda': '>=3', '@aws-sdk/client-s3': '>=3' },
    sideEffects: false,
  };
  await writeFile(`${pkgDir}package.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  await mkdir(`${stage}python/`, { recursive: true });
  await cp(path('functions/helper/python/cirrus_batch.py'), `${stage}python/cirrus_batch.py`);
  await swapIn(stage, path('dist/layer'));
}

// Another build may swap its own layer in between our two renames; then move that one aside too.
async function swapIn(from, to) {
  const old = `${to}.old-${process.pid}`;
  for (let i = 0; ; i++) {
    await rm(old, { recursive: true, force: true });
    await rename(to, old).catch(() => undefined);
    try {
      await rename(from, to);
      break;
    } catch (err) {
      if (i >= 3 || !['ENOTEMPTY', 'EEXIST'].includes(err.code)) throw err;
    }
  }
  await rm(old, { recursive: true, force: true });
}
