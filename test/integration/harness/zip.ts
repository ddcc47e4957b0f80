// Builds function and layer zips in memory for tests, including deliberately unsafe ones.
import { crc32 } from 'node:zlib';
import yazl from 'yazl';

/** One entry: text or bytes (mode 0o644), bytes with a mode, a symlink, or an empty directory. */
export type ZipEntry =
  | string
  | Buffer
  | { content: string | Buffer; mode?: number }
  | { symlink: string }
  | { dir: true };

/** Entry name → entry, e.g. `{ 'lambda_function.py': 'def h(e, c): …', bootstrap: { content, mode: 0o755 } }`. */
export type ZipSpec = Record<string, ZipEntry>;

const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** A fixed timestamp so that the same spec always gives the same bytes (and the same CodeSha256). */
const MTIME = new Date('2024-01-01T00:00:00Z');

/**
 * Builds a zip with yazl (deflated, Unix modes, deterministic).
 * @example
 *   const zip = await buildZip({ 'lambda_function.py': 'def lambda_handler(e, c):\n  return e\n' });
 */
export function buildZip(spec: ZipSpec): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, entry] of Object.entries(spec)) {
    if (typeof entry === 'string' || Buffer.isBuffer(entry)) {
      zip.addBuffer(Buffer.from(entry), name, { mtime: MTIME, mode: S_IFREG | 0o644 });
    } else if ('symlink' in entry) {
      zip.addBuffer(Buffer.from(entry.symlink), name, {
        mtime: MTIME,
        mode: S_IFLNK | 0o777,
        compress: false,
      });
    } else if ('dir' in entry) {
      zip.addEmptyDirectory(name, { mtime: MTIME, mode: S_IFDIR | 0o755 });
    } else {
      zip.addBuffer(Buffer.from(entry.content), name, {
        mtime: MTIME,
        mode: S_IFREG | (entry.mode ?? 0o644),
      });
    }
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** An entry for the raw writer: any name at all (yazl refuses `../` and absolute names). */
export interface RawEntry {
  name: string;
  content?: string | Buffer;
  /** full Unix mode including the file type bits; default a regular 0o644 file */
  mode?: number;
}

/**
 * Writes a stored (uncompressed) zip without checking names, for archives a safe extractor must refuse.
 * Local header, data, central directory, end record: the minimum every unzip reads.
 */
export function rawZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.content ?? '');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x5821, 12); // date 2024-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes carry the mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x5821, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((((e.mode ?? S_IFREG | 0o644) & 0xffff) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export const UNSAFE_KINDS = [
  'dotdot',
  'absolute',
  'symlink-escape',
  'symlink-absolute',
  'through-symlink',
] as const;
export type UnsafeKind = (typeof UNSAFE_KINDS)[number];

/**
 * A zip with a handler file plus one entry that would write or point outside the extraction folder:
 * - `dotdot`: `../escaped.txt`; `absolute`: `/tmp/escaped-<pid>.txt`;
 * - `symlink-escape`: a symlink `up` → `../../..`; `symlink-absolute`: a symlink `etc` → `/etc`;
 * - `through-symlink`: a symlink `out` → `..` followed by a file `out/escaped.txt` written through it.
 */
export function unsafeZip(kind: UnsafeKind, handlerFile = 'lambda_function.py'): Buffer {
  const handler: RawEntry = {
    name: handlerFile,
    content: 'def lambda_handler(event, context):\n    return event\n',
  };
  const link = (name: string, target: string): RawEntry => ({ name, content: target, mode: S_IFLNK | 0o777 });
  const byKind: Record<UnsafeKind, RawEntry[]> = {
    dotdot: [{ name: '../escaped.txt', content: 'escaped' }],
    absolute: [{ name: `/tmp/escaped-${process.pid}.txt`, content: 'escaped' }],
    'symlink-escape': [link('up', '../../..')],
    'symlink-absolute': [link('etc', '/etc')],
    'through-symlink': [link('out', '..'), { name: 'out/escaped.txt', content: 'escaped' }],
  };
  return rawZip([handler, ...byKind[kind]]);
}
