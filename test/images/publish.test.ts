// The publish step, `npm run images -- --push <registry>`, against a real registry on loopback (Debian's
// docker-registry, started here on a free 127.0.0.1 port with a storage folder of its own, stopped after): both
// architectures' tags of python3.12 are pushed, then `<version>-python3.12` and `<version>` as manifest lists over them,
// each entry with the platform of the image it points at.
// Gap: the images are built on the stand-ins (support.ts). Where the registry, an engine or the arm64 images are
// missing, this file says so and skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../images/matrix.mjs';
import { endGroup, spawnTethered } from '../support/tether.mjs';
import { docker, dockerOk } from './docker.js';
import { run } from './exec.js';
import type { ImageSet } from './images.js';
import { readPrepared } from './prepared.js';
import { emulationMissing } from './standins.js';
import { BUILD_TIMEOUT_MS, images, skip as noEngine } from './support.js';

const REGISTRY_BIN = 'docker-registry';
const prepared = readPrepared();

function publishSkip(): string | undefined {
  if (noEngine) return noEngine;
  const arm64 = (prepared && 'ready' in prepared && prepared.ready.arm64Skip) || emulationMissing('arm64');
  if (arm64) return `no arm64 images to publish: ${arm64}`;
  if (spawnSync(REGISTRY_BIN, ['--version']).status !== 0)
    return `${REGISTRY_BIN} is not installed (Debian's docker-registry; scripts/docker-setup.sh installs it)`;
  return undefined;
}

const skip = publishSkip();
if (skip && !noEngine) process.stderr.write(`publish tests SKIPPED: ${skip}\n`);

const root = fileURLToPath(repoRoot);
const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string })
  .version;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Waits until the registry answers its API's base endpoint. */
async function answers(url: string, deadline = Date.now() + 30_000): Promise<void> {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the registry did not answer at ${url} within 30 s`);
}

let set: ImageSet;
let work: string;
let registry: ReturnType<typeof spawnTethered> | undefined;
let prefix = '';
let summary:
  | {
      images: { tags: string[] }[];
      manifests: { list: string; images: { tag: string; arch: string }[] }[];
    }
  | undefined;

before(
  async () => {
    if (skip) return;
    set = await images();
    work = await mkdtemp(join(tmpdir(), 'image-publish-'));
    const port = await freePort();
    await writeFile(
      join(work, 'config.yml'),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    registry = spawnTethered(REGISTRY_BIN, ['serve', join(work, 'config.yml')], { stdio: 'ignore' });
    await answers(`http://127.0.0.1:${port}/v2/`);
    prefix = `127.0.0.1:${port}/cirrus-test`;
    const bases = join(work, 'bases.json');
    await writeFile(bases, JSON.stringify({ node: set.standins.node, bases: set.standins.bases }));
    const args = ['images/build.mjs', '--push', prefix, '--only', 'lambda:python3.12', '--arch', 'all'];
    args.push('--bases', bases, '--no-npm-build', '--summary', join(work, 'summary.json'));
    await run(process.execPath, args, { cwd: root, what: 'node images/build.mjs --push' });
    summary = JSON.parse(await readFile(join(work, 'summary.json'), 'utf8'));
  },
  { timeout: BUILD_TIMEOUT_MS },
);

after(async () => {
  if (registry) endGroup(registry);
  // The tags under the registry's name only (the images stay, under the tests' own names), and the lists made.
  const tags = (summary?.images ?? []).flatMap((i) => i.tags);
  if (tags.length > 0) await docker(['rmi', ...tags]);
  for (const m of summary?.manifests ?? []) await docker(['manifest', 'rm', m.list]);
  if (work) await rm(work, { recursive: true, force: true });
});

interface ListEntry {
  digest: string;
  platform: { architecture: string; os: string; variant?: string };
}

/** What the registry holds under `ref`, read back with `docker manifest inspect` (plain HTTP on loopback). */
async function inspect(ref: string, verbose = false): Promise<unknown> {
  const out = await dockerOk(['manifest', 'inspect', '--insecure', ...(verbose ? ['--verbose'] : []), ref]);
  return JSON.parse(out);
}

test('--push puts both architectures’ tags in the registry, each image declaring its own platform', {
  skip,
}, async () => {
  for (const [arch, platform] of [
    ['x86_64', { architecture: 'amd64', os: 'linux' }],
    ['arm64', { architecture: 'arm64', os: 'linux', variant: 'v8' }],
  ] as const) {
    const tag = `${prefix}/run-lambda:${version}-python3.12-${arch}`;
    const image = (await inspect(tag, true)) as { Descriptor: { platform: Record<string, string> } };
    assert.deepEqual(image.Descriptor.platform, platform, tag);
  }
});

for (const list of [`-python3.12`, '']) {
  test(`--push makes run-lambda:<version>${list} a manifest list of the x86_64 and arm64 images`, {
    skip,
  }, async () => {
    const ref = `${prefix}/run-lambda:${version}${list}`;
    const manifest = (await inspect(ref)) as { mediaType: string; manifests: ListEntry[] };
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    // One entry per architecture (docker manifest keeps them in an order of its own).
    const byArch = new Map(manifest.manifests.map((m) => [m.platform.architecture, m]));
    assert.equal(manifest.manifests.length, 2);
    assert.deepEqual(byArch.get('amd64')?.platform, { architecture: 'amd64', os: 'linux' });
    assert.deepEqual(byArch.get('arm64')?.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
    // Each entry is the very image under its architecture's tag.
    for (const [arch, docker] of [
      ['x86_64', 'amd64'],
      ['arm64', 'arm64'],
    ] as const) {
      const tag = `${prefix}/run-lambda:${version}-python3.12-${arch}`;
      const image = (await inspect(tag, true)) as { Descriptor: { digest: string } };
      assert.equal(byArch.get(docker)?.digest, image.Descriptor.digest, `${ref} → ${tag}`);
    }
    assert.ok(summary?.manifests.some((m) => m.list === ref));
  });
}
