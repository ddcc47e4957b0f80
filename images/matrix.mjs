// Reads images/matrix.json, the one list of images and their pinned bases (the build, the docs and the tests use it),
// and says what each image is called and built from on each architecture.
import { readFileSync } from 'node:fs';

/**
 * @typedef {'x86_64' | 'arm64'} Arch
 * @typedef {{ target: string, suite: string, node?: string, jdk?: string, npm_test?: Arch[] }} Standin
 * @typedef {{ flavour: 'lambda' | 'geolambda', repository: string, runtime: string, base: string,
 *   digests?: Partial<Record<Arch, string>>, os: 'al2' | 'al2023', unpinned?: string, default?: boolean,
 *   node_sdk?: boolean, runner_node?: 'base', geo_base?: boolean, standin: Standin }} ImageEntry
 * @typedef {{ arches: Arch[], node: { image: string, standin: Standin }, geo: Record<string, string>,
 *   images: ImageEntry[] }} Matrix
 */

export const matrixPath = new URL('./matrix.json', import.meta.url);
export const repoRoot = new URL('../', import.meta.url);

/** Lambda's names of the two architectures, which the tags carry; Docker calls them amd64 and arm64. */
export const ARCHES = /** @type {const} */ (['x86_64', 'arm64']);
const DOCKER_ARCH = { x86_64: 'amd64', arm64: 'arm64' };
/** Docker's per-architecture repositories of its official images (amd64/node, arm64v8/node). */
const OFFICIAL_NAMESPACE = { x86_64: 'amd64', arm64: 'arm64v8' };
/** What `uname -m` says on each. */
export const MACHINE = { x86_64: 'x86_64', arm64: 'aarch64' };

/** A Lambda base's dated tag, as public.ecr.aws/lambda publishes them: `<runtime part>.<YYYY>.<MM>.<DD>.<HH>`. */
const DATED = /^public\.ecr\.aws\/lambda\/[a-z]+:[\w.]+\.\d{4}\.\d\d\.\d\d\.\d\d$/;
const MOVING = /^public\.ecr\.aws\/lambda\/[a-z]+:[\w.]+$/;

/** @param {ImageEntry} e */
function checkEntry(e, arches) {
  const what = `images/matrix.json: ${e.repository} ${e.runtime}`;
  if (e.unpinned !== undefined) {
    if (
      typeof e.unpinned !== 'string' ||
      e.unpinned === '' ||
      !MOVING.test(e.base) ||
      /:latest$/.test(e.base)
    )
      throw new Error(
        `${what}: an unpinned base names a Lambda base's version tag and says why it is not pinned`,
      );
  } else if (!DATED.test(e.base)) {
    throw new Error(
      `${what}: base ${e.base} is not pinned by an exact dated tag (<image>:<version>.<YYYY>.<MM>.<DD>.<HH>)`,
    );
  }
  for (const [arch, digest] of Object.entries(e.digests ?? {}))
    if (!arches.includes(arch) || !/^sha256:[0-9a-f]{64}$/.test(String(digest)))
      throw new Error(
        `${what}: digests.${arch} must be an architecture of arches and sha256:<64 hex digits>`,
      );
  if (e.os !== 'al2' && e.os !== 'al2023') throw new Error(`${what}: os must be al2 or al2023, not ${e.os}`);
  if (e.runner_node !== undefined && e.runner_node !== 'base')
    throw new Error(`${what}: runner_node must be "base" (the base's own Node.js runs the runner) or absent`);
  for (const a of e.standin.npm_test ?? [])
    if (!arches.includes(a)) throw new Error(`${what}: standin.npm_test names ${a}, not one of ${arches}`);
}

/** images/matrix.json, read and checked. @returns {Matrix} */
export function readMatrix() {
  return parseMatrix(readFileSync(matrixPath, 'utf8'));
}

/** A matrix's text, checked: architectures, one entry per flavour and runtime, every base pinned or saying why not. */
export function parseMatrix(text) {
  /** @type {Matrix} */
  const m = JSON.parse(text);
  if (!Array.isArray(m.arches) || m.arches.length === 0 || m.arches.some((a) => !ARCHES.includes(a)))
    throw new Error(`images/matrix.json: arches must list some of ${ARCHES.join(', ')}`);
  const seen = new Set();
  for (const e of m.images) {
    checkEntry(e, m.arches);
    const key = `${e.flavour}:${e.runtime}`;
    if (seen.has(key)) throw new Error(`images/matrix.json lists ${key} twice`);
    seen.add(key);
  }
  return m;
}

/** The package version, which every image tag carries. */
export function packageVersion() {
  return JSON.parse(readFileSync(new URL('package.json', repoRoot), 'utf8')).version;
}

/** @param {string} arch */
export function checkArch(arch) {
  if (!ARCHES.includes(/** @type {Arch} */ (arch)))
    throw new Error(`unknown architecture ${JSON.stringify(arch)} (expected ${ARCHES.join(' or ')})`);
  return /** @type {Arch} */ (arch);
}

/** Docker's name of an architecture (what `docker image inspect` and manifest lists say). */
export const dockerArch = (/** @type {Arch} */ arch) => DOCKER_ARCH[arch];

/**
 * The Lambda base of `entry` for one architecture: the base's own tag for it (`…-x86_64`, `…-arm64`), with that
 * architecture's digest when `digests` pins one.
 */
export const baseFor = (/** @type {ImageEntry} */ entry, /** @type {Arch} */ arch) =>
  `${entry.base}-${arch}${entry.digests?.[arch] ? `@${entry.digests[arch]}` : ''}`;

/** The official Node.js image for one architecture, from Docker's per-architecture repository. */
export const nodeImageFor = (/** @type {Matrix} */ m, /** @type {Arch} */ arch) =>
  `${OFFICIAL_NAMESPACE[arch]}/${m.node.image}`;

/** The architectures `npm test` builds an entry for (its stand-in's `npm_test`, x86_64 by default). */
export const npmTestArches = (/** @type {ImageEntry} */ entry) => entry.standin.npm_test ?? ['x86_64'];

/**
 * An image's tag on one architecture, `<repo>/<repository>:<version>-<runtime>-<arch>`: what the job definitions name.
 * @param {ImageEntry} entry
 * @param {{ repo: string, version: string, arch: Arch }} where
 */
export function archTag(entry, { repo, version, arch }) {
  return `${repo}/${entry.repository}:${version}-${entry.runtime}-${arch}`;
}

/**
 * The tags over both architectures: `<repo>/<repository>:<version>-<runtime>`, and `<repo>/<repository>:<version>` for
 * a flavour's default. Published as manifest lists; a local build gives them to the image of this machine's architecture.
 * @param {ImageEntry} entry
 * @param {{ repo: string, version: string }} where
 */
export function listTags(entry, { repo, version }) {
  const name = `${repo}/${entry.repository}`;
  const tags = [`${name}:${version}-${entry.runtime}`];
  if (entry.default) tags.push(`${name}:${version}`);
  return tags;
}
