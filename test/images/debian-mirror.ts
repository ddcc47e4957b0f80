// The Debian mirror the stand-in bases are bootstrapped from: DEBIAN_MIRROR, else the first Debian archive of this
// machine's apt sources. The project names no package host of its own: with neither, the build stops and says how
// to give it one.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** No Debian mirror is configured on this machine (or DEBIAN_MIRROR is not a URL). */
export class NoDebianMirrorError extends Error {
  override name = 'NoDebianMirrorError';
}

export interface MirrorSources {
  /** apt's configuration folder (default /etc/apt): sources.list and sources.list.d/ */
  aptDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** A Debian archive's URL: its path ends in /debian (not debian-security, not another distribution's). */
const ARCHIVE = /^(\S+\/debian)\/?$/;

/** The `deb` URIs of a one-line-style file (sources.list, *.list), in order. */
function oneLineUris(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
    return m?.[1] ? [m[1]] : [];
  });
}

/** The URIs of the enabled `deb` stanzas of a deb822-style file (*.sources), in order. */
function deb822Uris(text: string): string[] {
  return text.split(/\n\s*\n/).flatMap((stanza) => {
    const field = (name: string) =>
      new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza.replace(/^#.*$/gm, ''))?.[1]?.trim() ?? '';
    if (!field('Types').split(/\s+/).includes('deb') || /^no$/i.test(field('Enabled'))) return [];
    return field('URIs').split(/\s+/).filter(Boolean);
  });
}

/** The source files apt reads, in its order: sources.list, then sources.list.d/*.list and *.sources by name. */
function aptSources(aptDir: string): { file: string; uris: string[] }[] {
  const list = join(aptDir, 'sources.list');
  const dir = join(aptDir, 'sources.list.d');
  const parts = existsSync(dir) ? readdirSync(dir).sort() : [];
  return [
    ...(existsSync(list) ? [{ file: list, uris: oneLineUris(readFileSync(list, 'utf8')) }] : []),
    ...parts.flatMap((name) => {
      const file = join(dir, name);
      if (name.endsWith('.list')) return [{ file, uris: oneLineUris(readFileSync(file, 'utf8')) }];
      if (name.endsWith('.sources')) return [{ file, uris: deb822Uris(readFileSync(file, 'utf8')) }];
      return [];
    }),
  ];
}

/** The mirror debootstrap uses for the stand-ins; throws NoDebianMirrorError when there is none. */
export function debianMirror(sources: MirrorSources = {}): string {
  const env = sources.env ?? process.env;
  const aptDir = sources.aptDir ?? '/etc/apt';
  const given = env.DEBIAN_MIRROR?.trim();
  if (given) {
    let url: URL | undefined;
    try {
      url = new URL(given);
    } catch {}
    if (!url || !['http:', 'https:', 'file:'].includes(url.protocol))
      throw new NoDebianMirrorError(`DEBIAN_MIRROR is not an http(s) or file URL: ${given}`);
    return given.replace(/\/+$/, '');
  }
  for (const { uris } of aptSources(aptDir)) {
    const archive = uris.map((u) => ARCHIVE.exec(u)?.[1]).find(Boolean);
    if (archive) return archive;
  }
  throw new NoDebianMirrorError(
    `no Debian mirror to build the stand-in bases from: apt's sources (${aptDir}/sources.list, ${aptDir}/sources.list.d/) name no Debian archive (a URL ending in /debian); add one there, or set DEBIAN_MIRROR to the URL of a Debian mirror this machine reaches`,
  );
}
