// dist/run-lambda.mjs: the runner as one self-contained ESM file (no node_modules at run time).
import { readFile } from 'node:fs/promises';
import * as esbuild from 'esbuild';

const root = new URL('../../', import.meta.url);

export async function build() {
  const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8'));
  const clients = {
    __RUNNER_VERSION__: JSON.stringify(pkg.version),
    __PYTHON_CLIENT__: JSON.stringify(
      await readFile(new URL('runner/runtime/clients/python_client.py', root), 'utf8'),
    ),
    __NODE_CLIENT__: JSON.stringify(
      await readFile(new URL('runner/runtime/clients/node-client.mjs', root), 'utf8'),
    ),
  };
  await esbuild.build({
    entryPoints: [new URL('runner/cli.ts', root).pathname],
    outfile: new URL('dist/run-lambda.mjs', root).pathname,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    define: clients,
    // The SDK is CommonJS inside; give the ESM bundle a require() for it.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
