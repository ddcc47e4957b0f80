// dist/dispatcher/index.mjs: the dispatcher Lambda as one ESM file exporting `handler`. template.yaml deploys this
// folder as it is (CodeUri: dist/dispatcher), so it holds the bundle and its source map and nothing else.
import * as esbuild from 'esbuild';
import { inlineSchemaKeys, nodeBundle, requireBanner } from '../esbuild-shared.mjs';

const root = new URL('../../', import.meta.url);

export async function build() {
  await esbuild.build({
    ...nodeBundle,
    // Lambda's nodejs22.x and nodejs24.x (template.yaml picks one): the older one's syntax runs on both, and
    // test/unit/dispatcher-runtimes.test.ts runs the bundle on each.
    target: 'node22',
    entryPoints: [new URL('functions/dispatcher/index.ts', root).pathname],
    outfile: new URL('dist/dispatcher/index.mjs', root).pathname,
    sourcemap: 'linked',
    plugins: [inlineSchemaKeys],
    banner: { js: requireBanner },
  });
}
