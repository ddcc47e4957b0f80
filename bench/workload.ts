// The bench's function, layer and payloads: a realistic 30 MB code zip, a 5 MB layer, a 20 MB event and result.
import { randomBytes } from 'node:crypto';
import { buildZip, type ZipSpec } from '../test/integration/harness/zip.js';
import { MB } from './stats.js';

/** Reads the event, calls into the layer for every item, returns a result about as large as the event. */
export const BIG_HANDLER = `import helpers


def lambda_handler(event, context):
    items = event["items"]
    return {"count": len(items), "items": [helpers.transform(s) for s in items]}
`;

const LAYER_HELPERS = `def transform(s):
    return s[::-1]
`;

export const EMPTY_HANDLER = `def lambda_handler(event, context):
    return {}
`;

/** For the memory figure: reads the event (the runtime parses it), returns something small. */
export const SIZE_HANDLER = `def lambda_handler(event, context):
    return {"length": len(event["blob"])}
`;

/**
 * Plausible Python source: a module of functions over random identifiers, so it compresses like real code
 * (about 7×) rather than like a repeated string.
 */
function pythonModule(bytes: number): string {
  const parts: string[] = ['"""Generated module for the bench."""\nimport math\n\n'];
  let size = parts[0]!.length;
  const ids = randomBytes(Math.ceil(bytes / 16)).toString('hex');
  for (let i = 0; size < bytes; i++) {
    const id = ids.slice(i * 12, i * 12 + 12);
    const fn = `def f_${id}_${i}(x, y=${i % 97}):\n    """Compute ${id} for x."""\n    total = 0\n    for k in range(y):\n        total += math.sqrt(k * x + ${i})\n    return total\n\n\n`;
    parts.push(fn);
    size += fn.length;
  }
  return parts.join('');
}

export interface CodeWorkload {
  zip: Buffer;
  /** bytes once extracted */
  unzippedBytes: number;
  files: number;
}

/**
 * The function's code: the handler, three native-library-like files of random bytes (incompressible, as
 * .so files nearly are) and 120 Python modules; about 30 MB zipped.
 */
export async function codeZip(targetZipBytes = 30 * MB): Promise<CodeWorkload> {
  const spec: ZipSpec = { 'lambda_function.py': BIG_HANDLER };
  const modules = 120;
  let sourceBytes = 0;
  for (let i = 0; i < modules; i++) {
    const text = pythonModule(48 * 1024);
    spec[`vendor/pkg/mod_${String(i).padStart(3, '0')}.py`] = text;
    sourceBytes += text.length;
  }
  // Python text of this shape deflates to about a seventh; the random files fill the rest of the target.
  const randomTotal = Math.max(targetZipBytes - Math.round(sourceBytes * 0.14), MB);
  const sizes = [0.45, 0.35, 0.2].map((f) => Math.floor(randomTotal * f));
  sizes.forEach((n, i) => {
    spec[`vendor/lib/libbench_${i}.so`] = { content: randomBytes(n), mode: 0o755 };
  });
  const zip = await buildZip(spec);
  return {
    zip,
    unzippedBytes: sourceBytes + sizes.reduce((a, b) => a + b, 0) + BIG_HANDLER.length,
    files: Object.keys(spec).length,
  };
}

/** The layer: `python/helpers.py` (which the handler imports) and a 5 MB random native library. */
export function layerZip(targetZipBytes = 5 * MB): Promise<Buffer> {
  return buildZip({
    'python/helpers.py': LAYER_HELPERS,
    'python/lib/libhelpers.so': { content: randomBytes(targetZipBytes - 4096), mode: 0o755 },
  });
}

/** A JSON event `{"items": [<64 hex chars>, …]}` of about `bytes` bytes. */
export function itemsPayload(bytes: number): Buffer {
  const n = Math.floor(bytes / 67);
  const hex = randomBytes(n * 32).toString('hex');
  const items = Array.from({ length: n }, (_, i) => hex.slice(i * 64, i * 64 + 64));
  return Buffer.from(JSON.stringify({ items }));
}
