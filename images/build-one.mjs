// Builds one entry of images/matrix.json for one architecture from images/Dockerfile, and checks what it built: the
// architecture the image declares (the legacy builder takes it from the base), `run --version`, and the machine the
// image runs on (`uname -m`; an arm64 image on an x86_64 host runs under emulation).
import { docker, ImageBuildError, must } from './docker-cli.mjs';
import { addedBytes, addedLine } from './layer-bytes.mjs';
import { archTag, baseFor, dockerArch, listTags, MACHINE, nodeImageFor } from './matrix.mjs';

/**
 * @typedef {import('./matrix.mjs').ImageEntry} ImageEntry
 * @typedef {import('./matrix.mjs').Arch} Arch
 * @typedef {{ node?: Partial<Record<Arch, string>>, bases?: Record<string, Partial<Record<Arch, string>>> }} Overrides
 * @typedef {{ matrix: import('./matrix.mjs').Matrix, repo: string, version: string, hostArch: Arch,
 *   overrides?: Overrides, geoBases: Set<string>, log: (line: string) => void }} BuildContext
 */

const key = (/** @type {ImageEntry} */ e) => `${e.flavour}:${e.runtime}`;

/** This machine's architecture, in Lambda's words. */
export const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';

/** The base an entry is built on for `arch`: the override (the tests' stand-ins), else the pinned base's arch tag. */
function overrideFor(ctx, entry, arch) {
  return ctx.overrides?.bases?.[key(entry)]?.[arch];
}

/** The geo base for a geolambda entry: the override, or images/geo-base/Dockerfile built on the Lambda base. */
async function geoBase(entry, arch, ctx) {
  const override = overrideFor(ctx, entry, arch);
  if (override) return override;
  const tag = `${ctx.repo}/run-geolambda-base:gdal${ctx.matrix.geo.gdal}-${entry.runtime}-${arch}`;
  if (ctx.geoBases.has(tag)) return tag;
  const args = ['build', '--network', 'host', '-f', 'images/geo-base/Dockerfile', '--tag', tag];
  args.push('--build-arg', `BASE_IMAGE=${baseFor(entry, arch)}`);
  for (const [k, v] of Object.entries(ctx.matrix.geo)) {
    if (!k.startsWith('$')) args.push('--build-arg', `${k.toUpperCase()}_VERSION=${v}`);
  }
  ctx.log(`building the geo base ${tag} (GDAL ${ctx.matrix.geo.gdal}; this compiles PROJ, GEOS and GDAL)`);
  await must([...args, 'images/geo-base'], `building ${tag}`);
  ctx.geoBases.add(tag);
  return tag;
}

/** The runner's node (images/Dockerfile's NODE_LIBC): the base's own, or one shipped on the base's C library or its own. */
const nodeLibc = (/** @type {ImageEntry} */ e) =>
  e.runner_node === 'base' ? 'base' : e.os === 'al2' ? 'bundled' : 'system';

/** What the image declares and does: its architecture, `run --version`, `uname -m`. Throws ImageBuildError. */
async function check(tag, arch) {
  const inspect = await must(
    ['image', 'inspect', '--format', '{{.Architecture}} {{.Os}} {{.Size}} {{.Id}}', tag],
    `inspecting ${tag}`,
    { quiet: true },
  );
  const [declared, os, bytes, id] = inspect.trim().split(' ');
  if (declared !== dockerArch(arch) || os !== 'linux')
    throw new ImageBuildError(
      `${tag} declares ${os}/${declared}, not linux/${dockerArch(arch)}: its base is not an ${arch} image`,
    );
  const r = await docker(['run', '--rm', '--network', 'host', tag, 'sh', '-c', 'run --version && uname -m'], {
    quiet: true,
  });
  if (r.code !== 0) {
    const emulation =
      arch === HOST_ARCH
        ? ''
        : ` (an ${arch} image runs here only under emulation: scripts/docker-setup.sh registers qemu-aarch64)`;
    throw new ImageBuildError(
      `${tag}: run --version exited with code ${r.code}${emulation}: ${r.err.trim()}`,
    );
  }
  const machine = r.out.trim().split('\n').at(-1);
  if (machine !== MACHINE[arch]) throw new ImageBuildError(`${tag} runs on ${machine}, not ${MACHINE[arch]}`);
  return { bytes: Number(bytes), id };
}

/**
 * Builds `entry` for `arch`, tagged with its architecture's tag (and, on this machine's architecture, the tags over
 * both), checks it, and says what it built.
 * @param {ImageEntry} entry
 * @param {Arch} arch
 * @param {BuildContext} ctx
 */
export async function buildImage(entry, arch, ctx) {
  const started = Date.now();
  const base = entry.geo_base
    ? await geoBase(entry, arch, ctx)
    : (overrideFor(ctx, entry, arch) ?? baseFor(entry, arch));
  const node = ctx.overrides?.node?.[arch] ?? nodeImageFor(ctx.matrix, arch);
  const where = { repo: ctx.repo, version: ctx.version };
  const tag = archTag(entry, { ...where, arch });
  // The name the runner gives when it refuses a function: the tag over both architectures.
  const [name] = listTags(entry, where);
  const tags = [tag, ...(arch === ctx.hostArch ? listTags(entry, where) : [])];
  const args = ['build', '--network', 'host', '-f', 'images/Dockerfile', '--target', entry.flavour];
  args.push('--build-arg', `BASE_IMAGE=${base}`, '--build-arg', `NODE_IMAGE=${node}`);
  args.push('--build-arg', `NODE_SDK=${entry.node_sdk ? 'bundled' : 'none'}`);
  args.push('--build-arg', `NODE_LIBC=${nodeLibc(entry)}`);
  args.push('--build-arg', `RUNTIME=${entry.runtime}`, '--build-arg', `VERSION=${ctx.version}`);
  args.push('--build-arg', `IMAGE_NAME=${name}`);
  for (const t of tags) args.push('--tag', t);
  if (entry.unpinned) ctx.log(`note: ${key(entry)}'s base ${entry.base} is not pinned: ${entry.unpinned}`);
  ctx.log(`building ${tags.join(', ')} on ${base}`);
  await must([...args, '.'], `building ${tag}`);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const { bytes, id } = await check(tag, arch);
  const added = await addedBytes(tag, base);
  ctx.log(`built ${tags.join(', ')} in ${seconds} s (${Math.round(bytes / 1e6)} MB)`);
  ctx.log(addedLine(tag, base, added.bytes));
  return { ...entry, arch, base, node, tags, name, seconds, bytes, addedBytes: added.bytes, id };
}
