// Path rules for zip entries: which names are safe, and where a symlink really points once other links are followed.
import { UnsafeArchiveError } from '../errors.js';

/** Why a name was refused. */
export interface UnsafeName {
  reason: string;
}

/** Follows at most this many links while resolving one, as the kernel does (ELOOP). */
const MAX_HOPS = 40;

/**
 * The entry's path relative to the target, with `.` and empty parts removed, or why it is unsafe. yauzl has
 * already turned backslashes into slashes, so `..\\x` arrives here as `../x` and is refused like it.
 */
export function normalizeEntryName(raw: string): string | UnsafeName {
  if (raw.includes('\0')) return { reason: 'name contains a NUL byte' };
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) return { reason: 'absolute path' };
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { reason: 'path goes outside the target (..)' };
  return parts.join('/');
}

/**
 * True when the symlink at `linkName` (relative to the target) resolves inside the target, following the
 * other links of the archive the way the kernel would. Resolving each link only lexically is not enough:
 * `a -> b/l/../..` looks like it stays at `.`, but if `b/l -> ..` the kernel lands one level above it.
 */
export function resolvesInside(linkName: string, links: ReadonlyMap<string, string>): boolean {
  const first = links.get(linkName);
  if (first === undefined) return true;
  const stack = linkName.split('/').slice(0, -1);
  let queue = first.split('/');
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return false;
      stack.pop();
      continue;
    }
    stack.push(part);
    const target = links.get(stack.join('/'));
    if (target === undefined) continue;
    hops += 1;
    if (hops > MAX_HOPS || target.startsWith('/')) return false;
    stack.pop();
    queue = [...target.split('/'), ...queue];
  }
  return true;
}

/**
 * The entry's safe relative path ('' for the root itself), or UnsafeArchiveError naming it: a path out of the
 * target, or one that goes through a symlink made by an earlier entry (writing there lands wherever it points).
 */
export function checkedEntryName(rawName: string, links: ReadonlyMap<string, string>): string {
  const name = normalizeEntryName(rawName);
  if (typeof name !== 'string')
    throw new UnsafeArchiveError(`entry ${JSON.stringify(rawName)}: ${name.reason}`);
  const parts = name.split('/');
  for (let i = 1; i <= parts.length && name !== ''; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (links.has(prefix)) {
      throw new UnsafeArchiveError(`entry ${JSON.stringify(rawName)} goes through the symlink ${prefix}`);
    }
  }
  return name;
}
