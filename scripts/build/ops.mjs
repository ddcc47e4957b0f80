// dist/lambda-batch.mjs: the operator's CLI as one self-contained ESM file (the package's second bin; not in the
// images). Its commands and the SDK under them (ops/commands.ts) are bundled apart and embedded gzipped, imported
// only once the arguments are good (ops/load.ts), so --help and a usage error compile none of the SDK.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { inlineSchemaKeys, nodeBundle } from '../esbuild-shared.mjs';

const root = new URL('../../', import.meta.url);
const path = (p) => new URL(p, root).pathname;

export async function build() {
  const pkg = JSON.parse(await readFile(path('package.json'), 'utf8'));
  const commands = await esbuild.build({
    ...nodeBundle,
    entryPoints: [path('ops/commands.ts')],
    write: false,
    outfile: 'commands.mjs',
    // A data: module has no file URL to make a require() from; the SDK's CommonJS parts require built-ins only.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr('/');" },
    plugins: [inlineSchemaKeys],
  });
  await esbuild.build({
    ...nodeBundle,
    entryPoints: [path('ops/cli.ts')],
    outfile: path('dist/lambda-batch.mjs'),
    define: {
      __OPS_VERSION__: JSON.stringify(pkg.version),
      __OPS_COMMANDS_GZ__: JSON.stringify(
        gzipSync(commands.outputFiles[0].contents, { level: 9 }).toString('base64'),
      ),
    },
    banner: { js: '#!/usr/bin/env node' },
  });
}
