// The publish step of `npm run images -- --push <registry>`: pushes each image's architecture tag, then makes the tags
// over both architectures (`<version>-<runtime>`, and `<version>` for a flavour's default) manifest lists of the two
// and pushes those. `docker manifest` reads the images from the registry, so the architecture tags go first; a registry
// on a loopback address speaks plain HTTP, which `docker manifest` must be told (--insecure).
import { docker, must } from './docker-cli.mjs';
import { dockerArch, listTags } from './matrix.mjs';

/**
 * @typedef {import('./matrix.mjs').Arch} Arch
 * @typedef {import('./matrix.mjs').ImageEntry & { arch: Arch, tags: string[] }} Built
 */

/** The registry's host (and port) of a repository prefix such as `127.0.0.1:5000/cirrusgeo`. */
export function registryHost(prefix) {
  const first = prefix.split('/')[0] ?? '';
  // Docker reads a first part without a dot, a colon or "localhost" as a Docker Hub namespace.
  return /[.:]/.test(first) || first === 'localhost' ? first : 'docker.io';
}

/** True for a registry on this machine (127.0.0.0/8, localhost, ::1), which Docker talks to over plain HTTP. */
export function isLoopback(host) {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** One manifest list over `images` (an x86_64 and an arm64 image), made afresh and pushed. */
async function pushList(list, images, insecure) {
  const flag = insecure ? ['--insecure'] : [];
  // A list this CLI made before would be amended rather than replaced; it is removed first (absent is fine).
  await docker(['manifest', 'rm', list], { quiet: true });
  await must(['manifest', 'create', ...flag, list, ...images.map((i) => i.tags[0])], `making ${list}`, {
    quiet: true,
  });
  for (const i of images) {
    const variant = i.arch === 'arm64' ? ['--variant', 'v8'] : [];
    await must(
      ['manifest', 'annotate', list, i.tags[0], '--os', 'linux', '--arch', dockerArch(i.arch), ...variant],
      `annotating ${i.tags[0]} in ${list}`,
      { quiet: true },
    );
  }
  await must(['manifest', 'push', ...flag, '--purge', list], `pushing ${list}`, { quiet: true });
}

/**
 * Pushes `built` and the manifest lists of every entry built for both architectures; returns the lists made.
 * @param {Built[]} built
 * @param {{ repo: string, version: string, log: (line: string) => void }} where
 */
export async function publish(built, { repo, version, log }) {
  const insecure = isLoopback(registryHost(repo));
  for (const b of built) {
    await must(['push', b.tags[0]], `pushing ${b.tags[0]}`);
    log(`pushed ${b.tags[0]}`);
  }
  const byEntry = new Map();
  for (const b of built)
    byEntry.set(`${b.flavour}:${b.runtime}`, [...(byEntry.get(`${b.flavour}:${b.runtime}`) ?? []), b]);
  const lists = [];
  for (const [key, images] of byEntry) {
    const arches = new Set(images.map((i) => i.arch));
    if (!arches.has('x86_64') || !arches.has('arm64')) {
      log(
        `${key}: built for ${[...arches].join(', ')} only, so no manifest list (it needs both architectures)`,
      );
      continue;
    }
    const pair = ['x86_64', 'arm64'].map((a) => images.find((i) => i.arch === a));
    for (const list of listTags(images[0], { repo, version })) {
      await pushList(list, pair, insecure);
      log(`pushed ${list}: a manifest list of ${pair.map((i) => i.tags[0]).join(' and ')}`);
      lists.push({ list, images: pair.map((i) => ({ tag: i.tags[0], arch: i.arch })) });
    }
  }
  return lists;
}
