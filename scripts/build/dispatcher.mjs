// dist/dispatcher/index.mjs: the dispatcher Lambda as one ESM file exporting `handler`.
import { readFile } from 'node:fs/promises';
import * as esbuild from 'esbuild';

const root = new URL('../../', import.meta.url);

/**
 * The SDK clients' `schemas_0.js` key their trait objects with computed names (`{ [_e]: _c }`), which esbuild
 * must assume may have side effects, so every operation's schema (and all it references) stays in the bundle.
 * Those names are plain string constants of the same file; writing them as literal keys lets esbuild drop the
 * schemas of operations the dispatcher never calls (about 125 KB of the three clients). A key whose constant
 * is not found is left as it was, so a future SDK layout only loses the saving, never correctness.
 */
const inlineSchemaKeys = {
  name: 'inline-sdk-schema-keys',
  setup(build) {
    const filter =
      /[\\/]@aws-sdk[\\/][a-z0-9-]+[\\/]dist-es[\\/](?:[a-z0-9-]+[\\/])*schemas[\\/]schemas_\d+\.js$/;
    build.onLoad({ filter }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const consts = new Map();
      for (const m of text.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) consts.set(m[1], m[2]);
      const contents = text.replace(/\[(_\w+)\]:/g, (all, id) =>
        consts.has(id) ? `${consts.get(id)}:` : all,
      );
      return { contents, loader: 'js' };
    });
  },
};

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
    plugins: [inlineSchemaKeys],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
