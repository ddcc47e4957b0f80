// esbuild settings and plugins shared by the build targets in scripts/build/ (not a target itself).
import { readFile } from 'node:fs/promises';

/** An ESM bundle for Node 20+ that runs with no node_modules. */
export const nodeBundle = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // The SDK's ES module entries tree-shake to the commands used; the CommonJS ones carry every command.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

/** The bundled SDK has CommonJS inside; an ESM bundle gives it a require(). */
export const requireBanner =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * The SDK clients' `schemas_0.js` key their trait objects with computed names (`{ [_e]: _c }`), which esbuild
 * must assume may have side effects, so every operation's schema (and all it references) stays in the bundle.
 * Those names are plain string constants of the same file; writing them as literal keys lets esbuild drop the
 * schemas of operations the dispatcher never calls (about 125 KB of the three clients). A key whose constant
 * is not found is left as it was, so a future SDK layout only loses the saving, never correctness.
 */
export const inlineSchemaKeys = {
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
