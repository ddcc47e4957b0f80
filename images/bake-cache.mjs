// Image build step: compiles both halves of the runner into a V8 compile cache at ./compile-cache, beside this file,
// so that a job compiles neither: the bundle (run-lambda.mjs), which images/start.mjs imports once it has turned the
// cache on, and the AWS half (run-lambda-aws.mjs), which the runner imports on first use (runner/aws-module.ts).
// Node keys the cache by its own version, its flags and the user's id, and each entry by the file's path and
// contents, so this runs as root (a job's user), with the image's node and no flags (as images/run starts it), on
// the files at the paths the runner loads. Fails the build unless each file has its entry and Node accepts them.
// Argument: the node command images/run starts (on Amazon Linux 2 a script that starts the real binary through its
// own loader), for the processes this step starts; default this process's binary.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const nodeCommand = process.argv[2] ?? process.execPath;
const dir = dirname(fileURLToPath(import.meta.url));
const cache = join(dir, 'compile-cache');
const entry = join(dir, 'start.mjs');
const files = { bundle: join(dir, 'run-lambda.mjs'), aws: join(dir, 'run-lambda-aws.mjs') };
for (const file of [entry, ...Object.values(files)])
  if (!existsSync(file))
    throw new Error(`${file} is missing (npm run build writes dist/, the Dockerfile copies it)`);

/** The cache's files and their sizes and times: what a run that only reads the cache leaves as it was. */
const listing = () =>
  readdirSync(cache, { recursive: true })
    .map((f) => join(cache, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => `${f} ${statSync(f).size} ${statSync(f).mtimeMs}`)
    .sort()
    .join('\n');

// The AWS half, in this process: it only defines things when imported. It takes the bundle's error classes from this
// global; stand-ins do for compiling (V8 caches the code when it compiles the module, before it runs).
const enabled = nodeModule.enableCompileCache(cache);
if (enabled.status !== nodeModule.constants.compileCacheStatus.ENABLED) {
  throw new Error(`cannot enable the compile cache in ${cache}: ${enabled.message ?? enabled.status}`);
}
globalThis[Symbol.for('run-lambda.errors')] = new Proxy({}, { get: () => class extends Error {} });
await import(pathToFileURL(files.aws).href);
nodeModule.flushCompileCache();
const afterAws = listing();
if (afterAws === '') throw new Error(`the compile cache in ${cache} is empty after importing ${files.aws}`);

// The bundle runs as it is imported: `run --version` through the images' entry compiles all of it and writes its
// entry as the process exits.
const node = (args, env = {}) =>
  execFileSync(nodeCommand, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' });
node([entry, '--version']);
const baked = listing();
if (baked.split('\n').length <= afterAws.split('\n').length) {
  throw new Error(`no compile cache entry for ${files.bundle} in ${cache} after running ${entry} --version`);
}

// Node accepts both (it rewrites an entry it rejects): a second start and a fresh import change nothing.
node([entry, '--version']);
const importAws = `import * as m from 'node:module'; m.enableCompileCache(${JSON.stringify(cache)});
globalThis[Symbol.for('run-lambda.errors')] = new Proxy({}, { get: () => class extends Error {} });
await import(${JSON.stringify(pathToFileURL(files.aws).href)});`;
node(['--input-type=module', '-e', importAws]);
if (listing() !== baked) throw new Error(`Node did not accept the compile cache it wrote in ${cache}`);
console.log(`compile cache for ${files.bundle} and ${files.aws}:\n${baked}`);
