// Where the harness's Batch executor finds a job's images: no registry is reachable here, so each image a job names
// (a function's `…@sha256:` image, the run-lambda images) is mapped to something local that stands for it:
// - a folder "image" for processes: its files, and an OCI-like config (entrypoint, cmd, env, working dir). A function
//   image's folder has a stand-in of the Lambda base images' /lambda-entrypoint.sh that starts a runtime client (the
//   same stand-in clients test/images/standins puts in the stand-in bases: they always pass a context);
// - a Docker image built here (FROM a stand-in base, the function's code in /var/task), run with host networking.
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dockerOk } from '../../images/docker.js';
import { REPO_ROOT } from './batch-exec.js';

export interface FolderImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
}

export type LocalImage =
  | { kind: 'folder'; root: string; config: FolderImageConfig; describe: string }
  | { kind: 'docker'; ref: string; describe: string };

/** Finds the local stand-in of an image reference; undefined when the executor should use the host (the runner). */
export type ImageResolver = (image: string) => LocalImage | undefined;

/** A resolver from a table of exact references. */
export const imageTable =
  (table: ReadonlyMap<string, LocalImage>): ImageResolver =>
  (image) =>
    table.get(image);

const STANDINS = join(REPO_ROOT, 'test/images/standins');

// The Lambda base images' entrypoint, for a folder: the handler is the one argument, and with AWS_LAMBDA_RUNTIME_API
// set it starts the runtime's client (the real one starts the runtime interface emulator otherwise).
const ENTRYPOINT = `#!/bin/sh
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "\${AWS_LAMBDA_RUNTIME_API}" ]; then
  echo "stand-in image: no runtime interface emulator here; set AWS_LAMBDA_RUNTIME_API" 1>&2
  exit 1
fi
exec "$LAMBDA_RUNTIME_DIR/bootstrap"
`;

/**
 * A Python function image's app.py (handler `app.handler`) that never asks for an invocation: its module does not
 * finish importing (the runtime client loads it first), so the job's timeout or a signal is what ends it.
 */
export const SILENT_PYTHON_APP = `import time
time.sleep(600)

def handler(event, context):
    return event
`;

export interface FunctionImageSpec {
  runtime: 'python' | 'nodejs';
  /** files of /var/task, by relative path */
  files: Record<string, string>;
  /** the image's CMD (the handler), e.g. ["app.handler"] */
  cmd: string[];
  /** the image's own ENV */
  env?: Record<string, string>;
}

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const file = join(root, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
}

/** A function image as a folder for processes, laid out as a Lambda base image (var/task, var/runtime). */
export async function folderImage(dir: string, spec: FunctionImageSpec): Promise<LocalImage> {
  const runtimeDir = join(dir, 'var/runtime');
  const task = join(dir, 'var/task');
  await mkdir(runtimeDir, { recursive: true });
  await writeTree(task, spec.files);
  await writeFile(join(dir, 'lambda-entrypoint.sh'), ENTRYPOINT);
  const bootstrap =
    spec.runtime === 'python'
      ? `#!/bin/sh\nexec python3 "$LAMBDA_RUNTIME_DIR/bootstrap.py"\n`
      : `#!/bin/sh\nexec '${process.execPath}' "$LAMBDA_RUNTIME_DIR/index.mjs"\n`;
  await writeFile(join(runtimeDir, 'bootstrap'), bootstrap);
  if (spec.runtime === 'python')
    await copyFile(join(STANDINS, 'python-bootstrap.py'), join(runtimeDir, 'bootstrap.py'));
  else await copyFile(join(STANDINS, 'node-bootstrap.mjs'), join(runtimeDir, 'index.mjs'));
  await chmod(join(dir, 'lambda-entrypoint.sh'), 0o755);
  await chmod(join(runtimeDir, 'bootstrap'), 0o755);
  return {
    kind: 'folder',
    root: dir,
    describe: `folder image ${dir} (${spec.runtime} stand-in runtime client on the host's ${spec.runtime === 'python' ? 'python3' : 'node'})`,
    config: {
      entrypoint: [join(dir, 'lambda-entrypoint.sh')],
      cmd: spec.cmd,
      env: { LAMBDA_TASK_ROOT: task, LAMBDA_RUNTIME_DIR: runtimeDir, ...spec.env },
      workingDir: task,
    },
  };
}

/**
 * A function image built in the Docker engine: `FROM <base>`, the files in /var/task, `CMD <cmd>`, tagged by the
 * hash of all that (so a rebuild is a cache hit), with `docker build --network host`.
 */
export async function dockerFunctionImage(
  base: string,
  spec: FunctionImageSpec,
  describe: string,
): Promise<LocalImage> {
  const recipe = JSON.stringify({ base, spec });
  const hash = createHash('sha256').update(recipe).digest('hex').slice(0, 16);
  const ctx = join(tmpdir(), `fn-image-${hash}-${process.pid}`);
  await writeTree(join(ctx, 'task'), spec.files);
  const env = Object.entries(spec.env ?? {}).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}\n`);
  await writeFile(
    join(ctx, 'Dockerfile'),
    `FROM ${base}\nCOPY task/ /var/task/\n${env.join('')}CMD ${JSON.stringify(spec.cmd)}\n`,
  );
  const ref = `run-lambda-test-fn/${spec.runtime}:${hash}`;
  try {
    await dockerOk(['build', '--network', 'host', '--tag', ref, ctx]);
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
  const id = (await dockerOk(['image', 'inspect', '--format', '{{.Id}}', ref])).trim();
  return { kind: 'docker', ref: id, describe: `${ref} (${id.slice(0, 19)}) ${describe}` };
}
