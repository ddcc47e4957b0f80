// dist/dispatcher/index.mjs: the dispatcher Lambda as one ESM file exporting `handler`.
import * as esbuild from 'esbuild';
import { inlineSchemaKeys, nodeBundle, requireBanner } from '../esbuild-shared.mjs';

const root = new URL('../../', import.meta.url);

export async function build() {
  await esbuild.build({
    ...nodeBundle,
    entryPoints: [new URL('functions/dispatcher/index.ts', root).pathname],
    outfile: new URL('dist/dispatcher/index.mjs', root).pathname,
    sourcemap: 'linked',
    plugins: [inlineSchemaKeys],
    banner: { js: requireBanner },
  });
}
