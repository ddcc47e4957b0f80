// A root filesystem folder as an image that declares the architecture it is for. `docker import` stamps the engine's
// own architecture (this engine ignores its --platform, and --change cannot set one), so an arm64 Debian imported that
// way would claim amd64, and every image built on it too (the legacy builder takes a child's architecture from its
// base). Instead the folder is loaded as the one-layer image archive `docker save` writes (manifest.json, the image
// config with its architecture, the layer as a tar), which `docker load` takes as it is.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Arch, dockerArch } from '../../images/matrix.mjs';
import { spawnTethered } from '../support/tether.mjs';
import { run } from './exec.js';

/** The image config `docker load` reads: the architecture, the one layer's digest, an empty runtime config. */
export function imageConfig(arch: Arch, layerDigest: string, created = new Date()): string {
  return JSON.stringify({
    architecture: dockerArch(arch),
    ...(arch === 'arm64' ? { variant: 'v8' } : {}),
    os: 'linux',
    created: created.toISOString(),
    config: {},
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: created.toISOString(), created_by: 'debootstrap (test/images/standins.ts)' }],
  });
}

/** Tars `rootfs` into `file`, hashing as it writes; resolves with the tar's SHA-256 (the layer's diff id). */
async function tarLayer(rootfs: string, file: string): Promise<string> {
  const tar = spawnTethered('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const hash = createHash('sha256');
  // stdout is piped above
  const out = tar.stdout!;
  out.on('data', (d: Buffer) => hash.update(d));
  const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
  await pipeline(out, createWriteStream(file));
  const code = await exited;
  if (code !== 0) throw new Error(`tar of ${rootfs} exited with code ${code}`);
  return hash.digest('hex');
}

/** Loads the folder `rootfs` as the image `tag`, declaring `arch`; `scratch` holds the archive meanwhile. */
export async function loadRootfs(rootfs: string, tag: string, arch: Arch, scratch: string): Promise<void> {
  const dir = join(scratch, 'archive');
  await mkdir(dir, { recursive: true });
  const digest = await tarLayer(rootfs, join(dir, 'layer.tar'));
  await writeFile(join(dir, 'config.json'), imageConfig(arch, digest));
  await writeFile(
    join(dir, 'manifest.json'),
    JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: ['layer.tar'] }]),
  );
  await run('sh', ['-c', `tar -C '${dir}' -c . | docker load`], { what: `docker load ${tag}` });
}
