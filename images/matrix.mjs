// Reads images/matrix.json, the one list of images and their pinned bases (the build, the docs and the tests use it).
import { readFileSync } from 'node:fs';

/**
 * @typedef {{ target: string, suite: string, node?: string }} Standin
 * @typedef {{ flavour: 'lambda' | 'geolambda', repository: string, runtime: string, base: string,
 *   default?: boolean, node_sdk?: boolean, geo_base?: boolean, standin: Standin }} ImageEntry
 * @typedef {{ node: { image: string, standin: Standin }, geo: Record<string, string>, images: ImageEntry[] }} Matrix
 */

export const matrixPath = new URL('./matrix.json', import.meta.url);
export const repoRoot = new URL('../', import.meta.url);

/** @returns {Matrix} */
export function readMatrix() {
  /** @type {Matrix} */
  const m = JSON.parse(readFileSync(matrixPath, 'utf8'));
  for (const e of m.images) {
    if (!/^[\w./-]+:[\w.-]+(@sha256:[0-9a-f]{64})?$/.test(e.base) || /:latest$/.test(e.base)) {
      throw new Error(
        `images/matrix.json: ${e.repository} ${e.runtime}: base ${e.base} is not pinned by an exact tag`,
      );
    }
  }
  return m;
}

/** The package version, which every image tag carries. */
export function packageVersion() {
  return JSON.parse(readFileSync(new URL('package.json', repoRoot), 'utf8')).version;
}

/**
 * An image's tags: `<repo>/<repository>:<version>-<runtime>`, and `<repo>/<repository>:<version>` for the default.
 * @param {ImageEntry} entry
 * @param {{ repo: string, version: string }} where
 */
export function imageTags(entry, { repo, version }) {
  const name = `${repo}/${entry.repository}`;
  const tags = [`${name}:${version}-${entry.runtime}`];
  if (entry.default) tags.push(`${name}:${version}`);
  return tags;
}
