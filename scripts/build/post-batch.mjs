// dist/post-batch/index.mjs: the post-batch Lambda as one ESM file exporting `handler`.
import * as esbuild from 'esbuild';
import { inlineSchemaKeys, nodeBundle, requireBanner } from '../esbuild-shared.mjs';

const root = new URL('../../', import.meta.url);

export async function build() {
  await esbuild.build({
    ...nodeBundle,
    entryPoints: [new URL('functions/post-batch/index.ts', root).pathname],
    outfile: new URL('dist/post-batch/index.mjs', root).pathname,
    sourcemap: 'linked',
    plugins: [inlineSchemaKeys],
    banner: { js: requireBanner },
  });
}
