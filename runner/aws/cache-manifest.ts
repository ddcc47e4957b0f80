// What a cache entry looked like when it was extracted, so a run never executes code an earlier run changed.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One line per entry of the extracted tree: path, inode, type and mode, size, and the change time in
 * nanoseconds. The change time is what makes this hold against root: every write, chmod, utimes, rename
 * or new entry in a folder sets it to now, and no call sets it back (utimes sets only atime and mtime).
 * A folder's own change time covers entries added to or removed from it, so new files are caught too.
 */
type Line = [path: string, ino: string, mode: number, size: number, ctimeNs: string];

interface ManifestFile {
  format: 1;
  entries: Line[];
}

function lineOf(root: string, rel: string): Line {
  const s = lstatSync(rel === '' ? root : join(root, rel), { bigint: true });
  return [rel, s.ino.toString(), Number(s.mode), Number(s.size), s.ctimeNs.toString()];
}

/** The manifest of the tree at `root` (the folder itself included), as the text to store beside it. */
export function takeManifest(root: string): string {
  const entries: Line[] = [lineOf(root, '')];
  const walk = (rel: string) => {
    for (const d of readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true })) {
      const child = rel === '' ? d.name : `${rel}/${d.name}`;
      entries.push(lineOf(root, child));
      if (d.isDirectory()) walk(child);
    }
  };
  walk('');
  const file: ManifestFile = { format: 1, entries };
  return JSON.stringify(file);
}

/**
 * Undefined when the tree at `root` is still exactly what `manifest` recorded; otherwise what differs
 * (the first difference found). Costs one lstat per entry: no file is read.
 */
export function checkManifest(root: string, manifest: string): string | undefined {
  let file: ManifestFile;
  try {
    file = JSON.parse(manifest) as ManifestFile;
  } catch {
    return 'its manifest is unreadable';
  }
  if (file?.format !== 1 || !Array.isArray(file.entries) || file.entries.length === 0) {
    return 'its manifest is unreadable';
  }
  for (const recorded of file.entries) {
    const rel = recorded[0];
    let now: Line;
    try {
      now = lineOf(root, rel);
    } catch {
      return `${rel || 'the folder'} is gone`;
    }
    if (
      now[1] !== recorded[1] ||
      now[2] !== recorded[2] ||
      now[3] !== recorded[3] ||
      now[4] !== recorded[4]
    ) {
      return `${rel || 'the folder itself'} was changed`;
    }
  }
  return undefined;
}
