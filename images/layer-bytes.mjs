// What an image costs to pull over its base: the layers the recipe adds, each compressed as a registry ships them
// (gzip; `gzip -6` here, the default level, which `docker push` also uses), summed. A Fargate task pulls the base's layers too, but those are the same
// for any image on that base; these are the bytes the runner adds.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageBuildError, must } from './docker-cli.mjs';

/** The diff IDs of an image's layers, base first. */
async function diffIds(image) {
  const out = await must(
    ['image', 'inspect', '--format', '{{json .RootFS.Layers}}', image],
    `inspecting ${image}`,
    {
      quiet: true,
    },
  );
  return /** @type {string[]} */ (JSON.parse(out));
}

/** How many of `image`'s layers its base has: ImageBuildError when `image` is not built on `base`. */
async function baseLayerCount(image, base) {
  const [mine, theirs] = await Promise.all([diffIds(image), diffIds(base)]);
  if (theirs.some((id, i) => mine[i] !== id))
    throw new ImageBuildError(`${image} does not start with the layers of ${base}: cannot tell what it adds`);
  return { base: theirs.length, all: mine.length };
}

/** `docker save image`, unpacked into `dir`. */
function saveInto(image, dir) {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'pipe'] });
    const untar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    save.stderr.on('data', (d) => {
      err += d;
    });
    untar.stderr.on('data', (d) => {
      err += d;
    });
    save.stdout.pipe(untar.stdin);
    const codes = [];
    const done = (code) => {
      codes.push(code);
      if (codes.length < 2) return;
      if (codes.every((c) => c === 0)) resolve(undefined);
      else reject(new ImageBuildError(`docker save ${image} | tar -x failed: ${err.trim()}`));
    };
    save.on('error', reject);
    untar.on('error', reject);
    save.on('close', done);
    untar.on('close', done);
  });
}

/** The size of `file` compressed by `gzip -6`, which the figures of the docs and the bench's notes come from. */
function gzipBytes(file) {
  return new Promise((resolve, reject) => {
    const gzip = spawn('gzip', ['-6', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    gzip.stdout.on('data', (d) => {
      bytes += d.length;
    });
    gzip.stderr.on('data', (d) => {
      err += d;
    });
    gzip.on('error', reject);
    gzip.on('close', (code) =>
      code === 0 ? resolve(bytes) : reject(new ImageBuildError(`gzip -6 ${file} failed: ${err.trim()}`)),
    );
  });
}

/**
 * The bytes `image` adds over `base` as a registry ships them: each added layer gzip -6, summed.
 * @param {string} image
 * @param {string} base
 * @returns {Promise<{ bytes: number, layers: number }>}
 */
export async function addedBytes(image, base) {
  const count = await baseLayerCount(image, base);
  const dir = await mkdtemp(join(tmpdir(), 'run-lambda-layers-'));
  try {
    await saveInto(image, dir);
    const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const layers = /** @type {string[]} */ (manifest.Layers);
    if (layers.length !== count.all)
      throw new ImageBuildError(
        `docker save ${image} has ${layers.length} layers, not the ${count.all} it declares`,
      );
    let bytes = 0;
    for (const layer of layers.slice(count.base)) bytes += await gzipBytes(join(dir, layer));
    return { bytes, layers: count.all - count.base };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The line `npm run images` prints for an image: `<tag>: +X.X MB over <base> (compressed)`. */
export const addedLine = (tag, base, bytes) =>
  `${tag}: +${(bytes / 1e6).toFixed(1)} MB over ${base} (compressed)`;
