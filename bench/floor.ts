// The floor: what a user would do by hand instead of the runner — curl, unzip, python3 — each step timed.
import { GetFunctionCommand, GetLayerVersionCommand } from '@aws-sdk/client-lambda';
import { resolvePython } from '../runner/runtime/python.js';
import { findOnPath } from '../runner/runtime/which-runtime.js';
import { fakeAuth } from '../test/integration/harness/clients.js';
import type { Harness } from '../test/integration/harness/index.js';
import { timed } from './proc.js';

/**
 * The interpreter the runner would start: python3 on the PATH, with a pyenv shim resolved to the real binary
 * the same way the runner does it (the shim alone costs 0.1–1 s per start, which would flatter the runner).
 */
export function floorPython(env: Record<string, string | undefined>): string {
  const onPath = findOnPath('python3', env);
  if (!onPath) throw new Error('python3 is not on the PATH');
  return resolvePython(onPath, process.cwd(), env);
}

/** Runs the handler in `task` (layers' python/ under `opt`) on the event in `src`; writes the JSON result to `dst`. */
const CALL_HANDLER = `import json, sys
task, opt, src, dst, handler = sys.argv[1:6]
sys.path[:0] = [task, opt + "/python"]
module, _, name = handler.rpartition(".")
fn = getattr(__import__(module), name)
with open(src) as f:
    event = json.load(f)
result = fn(event, None)
with open(dst, "w") as f:
    f.write(json.dumps(result, ensure_ascii=False))
`;

export interface Locations {
  code: string;
  layers: string[];
}

/**
 * Fresh download URLs for a function's code and layers (through the front, as the runner asks). Not part of
 * the floor's time: a user by hand would have copied them from the console.
 */
export async function codeLocations(h: Harness, functionName: string): Promise<Locations> {
  const fn = await h.frontClients.lambda.send(new GetFunctionCommand({ FunctionName: functionName }));
  const layers: string[] = [];
  for (const l of fn.Configuration?.Layers ?? []) {
    const m = /:layer:([^:]+):(\d+)$/.exec(l.Arn ?? '');
    if (!m) throw new Error(`unexpected layer ARN ${l.Arn}`);
    const out = await h.frontClients.lambda.send(
      new GetLayerVersionCommand({ LayerName: m[1], VersionNumber: Number(m[2]) }),
    );
    layers.push(out.Content?.Location ?? '');
  }
  return { code: fn.Code?.Location ?? '', layers };
}

export interface FloorSteps {
  [step: string]: number;
}

/** One floor run: the wall time of each step (ms), by name; `total` is their sum. */
export class Floor {
  readonly steps: FloorSteps = {};
  constructor(
    private readonly h: Harness,
    private readonly python: string,
  ) {}

  private async step(name: string, cmd: string, args: string[]): Promise<void> {
    const r = await timed(cmd, args);
    this.steps[name] = (this.steps[name] ?? 0) + r.ms;
  }

  /** `curl` GET of a code or layer URL to a file. */
  download(name: string, url: string, dest: string): Promise<void> {
    return this.step(name, 'curl', ['-sSf', '-o', dest, url]);
  }

  /** `unzip -q` into a folder. */
  unzip(name: string, zip: string, dir: string): Promise<void> {
    return this.step(name, 'unzip', ['-q', '-o', zip, '-d', dir]);
  }

  /** S3 GetObject by curl, through the front (the path the runner's requests take too). */
  s3Get(name: string, bucket: string, key: string, dest: string): Promise<void> {
    return this.step(name, 'curl', [
      '-sSf',
      ...authHeader(),
      '-o',
      dest,
      `${this.h.endpoint}/${bucket}/${key}`,
    ]);
  }

  /** S3 PutObject by curl (one request; `Expect:` off so curl does not wait for a 100 Continue). */
  s3Put(name: string, src: string, bucket: string, key: string): Promise<void> {
    return this.step(name, 'curl', [
      '-sSf',
      ...authHeader(),
      '-H',
      'Expect:',
      '-o',
      '/dev/null',
      '-T',
      src,
      `${this.h.endpoint}/${bucket}/${key}`,
    ]);
  }

  /** python3 importing the handler from the extracted code and calling it on the event file. */
  handler(
    name: string,
    o: { task: string; opt: string; event: string; result: string; handler?: string },
  ): Promise<void> {
    return this.step(name, this.python, [
      '-c',
      CALL_HANDLER,
      o.task,
      o.opt,
      o.event,
      o.result,
      o.handler ?? 'lambda_function.lambda_handler',
    ]);
  }

  get total(): number {
    return Object.values(this.steps).reduce((a, b) => a + b, 0);
  }
}

function authHeader(): string[] {
  return ['-H', `authorization: ${fakeAuth('s3').authorization}`];
}
