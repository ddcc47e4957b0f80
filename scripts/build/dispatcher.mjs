// dist/dispatcher/index.mjs: the dispatcher Lambda as one ESM file exporting `handler`. template.yaml deploys this
// folder as it is (CodeUri: dist/dispatcher), so it holds the bundle and its source map and nothing else.
import * as esbuild from 'esbuild';
import { inlineSchemaKeys, nodeBundle, requireBanner } from '../esbuild-shared.mjs';

const root = new URL('../../', import.meta.url);

/** The Lambda Node.js runtimes the bundle must run on (template.yaml picks one; a test runs it on each). */
export const LAMBDA_NODE_RUNTIMES = ['nodejs22.x', 'nodejs24.x'];

export async function build() {
  await esbuild.build({
    ...nodeBundle,
    // The oldest of LAMBDA_NODE_RUNTIMES: syntax both of them run.
    target: 'node22',
    entryPoints: [new URL('functions/dispatcher/index.ts', root).pathname],
    outfile: new URL('dist/dispatcher/index.mjs', root).pathname,
    sourcemap: 'linked',
    plugins: [inlineSchemaKeys],
    banner: { js: requireBanner },
  });
}
