// dist/dispatcher/index.mjs: the dispatcher Lambda as one ESM file exporting `handler`.
import * as esbuild from 'esbuild';

const root = new URL('../../', import.meta.url);

export async function build() {
  await esbuild.build({
    entryPoints: [new URL('functions/dispatcher/index.ts', root).pathname],
    outfile: new URL('dist/dispatcher/index.mjs', root).pathname,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
