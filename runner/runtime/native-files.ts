// Local code's architecture, read from its native files' ELF headers: the local-mode half of the architecture check
// (architecture.ts). Only files that can be native code are opened (shared objects, Node.js addons, a bootstrap, what
// is in a bin/ folder), 20 bytes each, and the walk stops at the first level that holds one built for this machine:
// code that ships several platforms' binaries runs.
import { open, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Architecture } from '../../lib/architecture.js';
import type { Env } from '../../lib/env.js';
import { mapBounded } from '../../lib/pool.js';
import type { Logger } from '../log.js';
import { checkArchitecture, hostArchitecture } from './architecture.js';

/** ELF's e_machine values of Lambda's two architectures. */
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** e_ident (16 bytes), e_type (2), e_machine (2). */
const HEADER_BYTES = 20;

/** The architecture an ELF file is built for; undefined when it is no ELF file or for a machine Lambda has not. */
export function elfArchitecture(header: Buffer): string | undefined {
  if (header.length < HEADER_BYTES || !header.subarray(0, 4).equals(ELF_MAGIC)) return undefined;
  // e_ident[EI_DATA]: 1 little-endian, 2 big-endian.
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  if (machine === EM_X86_64) return Architecture.x86_64;
  if (machine === EM_AARCH64) return Architecture.arm64;
  return undefined;
}

/** A file that may be native code: a shared object (`.so`, `.so.1.2`), a Node.js addon, a bootstrap, in a bin/. */
function mayBeNative(name: string, dir: string): boolean {
  return /\.so(\.\d+)*$|\.node$/.test(name) || name === 'bootstrap' || /(^|\/)bin$/.test(dir);
}

async function fileArchitecture(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    return elfArchitecture(header.subarray(0, bytesRead));
  } catch {
    return undefined; // unreadable: not evidence either way
  } finally {
    await handle?.close();
  }
}

/** What the native files under some folders say: an architecture and one file built for it, or `host` found. */
export type NativeFindings =
  | { kind: 'host' }
  | { kind: 'none' }
  | { kind: 'other'; architecture: string; file: string };

/** Folders listed, and headers read, at once: the walk's cost is waiting on the disk, not work. */
const AT_ONCE = 16;

interface Place {
  root: string;
  path: string;
}

/** The folders and candidate files right under `dirs`, in their order. */
async function listLevel(dirs: readonly Place[]): Promise<{ dirs: Place[]; files: Place[] }> {
  const listed = await mapBounded(dirs, AT_ONCE, (d) =>
    readdir(d.path, { withFileTypes: true }).catch(() => []),
  );
  const next: { dirs: Place[]; files: Place[] } = { dirs: [], files: [] };
  listed.forEach((entries, i) => {
    const { root, path: dir } = dirs[i] as Place;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) next.dirs.push({ root, path });
      else if (entry.isFile() && mayBeNative(entry.name, dir)) next.files.push({ root, path });
    }
  });
  return next;
}

/**
 * Walks `roots` a level at a time (symbolic links are not followed) for native files: `host` as soon as a level holds
 * one built for this machine, else the first file built for another, else `none`. A file is named relative to its root.
 */
export async function nativeFindings(roots: readonly string[], host: string): Promise<NativeFindings> {
  let other: NativeFindings = { kind: 'none' };
  let level: Place[] = roots.map((root) => ({ root, path: root }));
  while (level.length > 0) {
    const { dirs, files } = await listLevel(level);
    const architectures = await mapBounded(files, AT_ONCE, (f) => fileArchitecture(f.path));
    if (architectures.includes(host)) return { kind: 'host' };
    const i = architectures.findIndex((a) => a !== undefined);
    if (i !== -1 && other.kind === 'none') {
      const { root, path } = files[i] as Place;
      other = { kind: 'other', architecture: architectures[i] as string, file: relative(root, path) };
    }
    level = dirs;
  }
  return other;
}

export interface LocalArchitectureDeps {
  functionName: string;
  runtime: string;
  /** The task root, and the opt dir when one was named (the machine's own /opt holds more than layers). */
  roots: readonly string[];
  ignore: boolean;
  env: Env;
  log: Logger;
  host?: string;
  platform?: NodeJS.Platform;
}

/**
 * Local code's architecture check: refused (exit 3, naming one file) when its native files are all built for another
 * machine; runs when one is built for this one, or when it has none. Returns the architecture they show, if any.
 */
export async function checkLocalArchitecture(deps: LocalArchitectureDeps): Promise<string | undefined> {
  const host = deps.host ?? hostArchitecture();
  if ((deps.platform ?? process.platform) !== 'linux') {
    deps.log.info(
      `native files are not checked for their architecture on ${deps.platform ?? process.platform}`,
    );
    return undefined;
  }
  const found = await nativeFindings(deps.roots, host);
  if (found.kind === 'none') return undefined;
  if (found.kind === 'host') return host;
  checkArchitecture({
    functionName: deps.functionName,
    architecture: found.architecture,
    evidence: found.file,
    runtime: deps.runtime,
    ignore: deps.ignore,
    env: deps.env,
    log: deps.log,
    host,
  });
  return found.architecture;
}
