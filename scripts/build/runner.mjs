// dist/run-lambda.mjs: the runner as one self-contained ESM file (no node_modules at run time).
// The AWS half (runner/aws/index.ts and the SDK) is bundled separately and embedded gzipped: local runs
// never compile it (see runner/aws-module.ts).
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { inlineSchemaKeys, nodeBundle, requireBanner } from '../esbuild-shared.mjs';

const root = new URL('../../', import.meta.url);
const path = (p) => new URL(p, root).pathname;
const errorsFile = path('runner/errors.ts');

/** In the AWS half, runner/errors.ts is the main bundle's own module (so `instanceof` works across both). */
async function sharedErrorsPlugin() {
  const source = await readFile(errorsFile, 'utf8');
  const names = [...source.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  return {
    name: 'shared-errors',
    setup(b) {
      b.onResolve({ filter: /\/errors\.js$/ }, async (args) => {
        const resolved = await b.resolve(args.path.replace(/\.js$/, '.ts'), {
          resolveDir: args.resolveDir,
          kind: args.kind,
        });
        return resolved.path === errorsFile ? { path: 'errors', namespace: 'shared-errors' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'shared-errors' }, () => ({
        contents: `const m = globalThis[Symbol.for('run-lambda.errors')];\nexport const { ${names.join(', ')} } = m;\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Node's built-in modules as lazy `require`s: esbuild hoists an ES import of an external module to the top of the
 * bundle, so every built-in the runner uses (http, child_process, zlib, crypto…) would load before `--version` could
 * answer. Through `require` each loads when the module that uses it is first evaluated (cli.ts imports run.js only
 * for a run).
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === 'lazy-builtin' ? undefined : { path: args.path, namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const awsHalfExternal = {
  name: 'aws-half-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/aws\/index\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * A module the runner writes out for a runtime to run (its Node.js client, the cirrus-v0 shim), as one file: what it
 * imports (runner/runtime/clients/handler-loader.mjs) bundled in, its own code as written (no minifying: its stack
 * traces are the function's to read), for whatever Node.js the function's runtime is.
 */
async function standalone(entry) {
  const out = await esbuild.build({
    entryPoints: [path(entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}

export async function build() {
  const pkg = JSON.parse(await readFile(path('package.json'), 'utf8'));
  const aws = await esbuild.build({
    ...nodeBundle,
    entryPoints: [path('runner/aws/index.ts')],
    write: false,
    outfile: 'aws.mjs',
    banner: { js: requireBanner },
    plugins: [await sharedErrorsPlugin(), inlineSchemaKeys],
  });
  const awsCode = aws.outputFiles[0].contents;
  // The same AWS half as a plain file beside the bundle, for the images to compile at build time
  // (images/bake-cache.mjs); its first line names the hash the bundle checks before it imports it.
  const awsSha = createHash('sha256').update(awsCode).digest('hex');
  await mkdir(path('dist'), { recursive: true });
  await writeFile(
    path('dist/run-lambda-aws.mjs'),
    Buffer.concat([Buffer.from(`// run-lambda aws half ${awsSha}\n`), awsCode]),
  );
  await esbuild.build({
    ...nodeBundle,
    entryPoints: [path('runner/cli.ts')],
    outfile: path('dist/run-lambda.mjs'),
    define: {
      __RUNNER_VERSION__: JSON.stringify(pkg.version),
      __PYTHON_CLIENT__: JSON.stringify(
        await readFile(path('runner/runtime/clients/python_client.py'), 'utf8'),
      ),
      __NODE_CLIENT__: JSON.stringify(await standalone('runner/runtime/clients/node-client.mjs')),
      __AWS_MODULE_GZ__: JSON.stringify(gzipSync(awsCode, { level: 9 }).toString('base64')),
      __AWS_MODULE_SHA__: JSON.stringify(awsSha),
      __COMPAT_SHIMS__: JSON.stringify({
        python: await readFile(path('runner/runtime/compat/run_lambda_compat.py'), 'utf8'),
        node: await standalone('runner/runtime/compat/run-lambda-compat.mjs'),
      }),
    },
    banner: { js: `#!/usr/bin/env node\n${requireBanner}` },
    plugins: [awsHalfExternal, lazyBuiltins],
  });
}
