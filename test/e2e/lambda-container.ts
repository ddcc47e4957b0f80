// A Lambda container for a function the stack deployed: moto's Lambda keeps the function but cannot run it, so the
// front answers its Invoke in this process with the code the stack deployed (fetched through GetFunction's code
// location, checked against CodeSha256) and the deployed configuration (handler, environment, memory, timeout).
// One process stands for the containers of several functions (the dispatcher, post-batch): each invoke puts its
// function's environment back on process.env first, since the SDK reads the credentials there when a client first
// signs, and invokes of different functions never overlap (one that would is refused).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type FunctionConfiguration,
  GetFunctionCommand,
  GetLayerVersionByArnCommand,
} from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { extractZip } from '../../runner/archive/extract.js';
import type { Harness } from '../integration/harness/index.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface DeployedFunction {
  name: string;
  configuration: FunctionConfiguration;
  /** where its code was unpacked (LAMBDA_TASK_ROOT) */
  taskRoot: string;
  /** stops answering its Invoke */
  remove(): void;
}

/** Downloads a code location as Lambda hands it out and refuses bytes whose SHA-256 is not `codeSha256`. */
async function download(
  location: string | undefined,
  codeSha256: string | undefined,
  what: string,
): Promise<Buffer> {
  if (!location) throw new Error(`${what} has no code location`);
  const res = await fetch(location);
  if (!res.ok) throw new Error(`${what}: code download answered ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const sha = createHash('sha256').update(bytes).digest('base64');
  if (sha !== codeSha256)
    throw new Error(`${what}: the code's SHA-256 ${sha} is not its CodeSha256 ${codeSha256}`);
  return bytes;
}

async function unzipTo(bytes: Buffer, dir: string): Promise<void> {
  await mkdir(join(dir, '..'), { recursive: true });
  const zip = `${dir}.zip`;
  await writeFile(zip, bytes);
  await extractZip(zip, dir);
}

let containers = 0;
/** The function whose invokes are running, and how many: one process cannot hold two functions' environments. */
let running: string | undefined;
let inFlight = 0;

/**
 * Serves Invoke of the deployed function `name` from its deployed code, as a fresh Lambda container would: its
 * environment is set on this process before the handler module is imported (the module reads it at import, as
 * in Lambda), with `credentials` standing for the function's execution role.
 */
export async function serveDeployedFunction(
  h: Harness,
  name: string,
  opts: { scratch: string; accessKeyId: string },
): Promise<DeployedFunction> {
  const got = await h.frontClients.lambda.send(new GetFunctionCommand({ FunctionName: name }));
  const configuration = got.Configuration ?? {};
  const zip = await download(got.Code?.Location, configuration.CodeSha256, `function ${name}`);
  const taskRoot = join(opts.scratch, `lambda-${name}-${++containers}`, 'task');
  await unzipTo(zip, taskRoot);

  const [module, exported] = (configuration.Handler ?? '').split('.') as [string, string];
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(taskRoot, module + ext)).find((f) => existsSync(f));
  if (!file || !exported)
    throw new Error(`function ${name}: handler ${configuration.Handler} is not in its code`);

  const env: Record<string, string> = {
    ...h.env,
    ...Object.fromEntries(
      Object.entries(configuration.Environment?.Variables ?? {}).map(([k, v]) => [k, String(v)]),
    ),
    AWS_ACCESS_KEY_ID: opts.accessKeyId,
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(configuration.MemorySize ?? 128),
    AWS_EXECUTION_ENV: `AWS_Lambda_${configuration.Runtime ?? ''}`,
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: configuration.Handler ?? '',
  };
  Object.assign(process.env, env);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = mod[exported] as Handler | undefined;
  if (typeof handler !== 'function') throw new Error(`function ${name}: ${file} exports no ${exported}`);

  const timeoutMs = (configuration.Timeout ?? 3) * 1000;
  const served = h.front.serveInvoke(name, async (event, ctx) => {
    if (inFlight > 0 && running !== name)
      throw new Error(
        `function ${name} invoked while ${running} runs: the e2e serves one function at a time`,
      );
    running = name;
    inFlight++;
    Object.assign(process.env, env);
    const deadline = Date.now() + timeoutMs;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: configuration.FunctionArn ?? ctx.invokedFunctionArn,
      memoryLimitInMB: String(configuration.MemorySize ?? 128),
      awsRequestId: ctx.awsRequestId,
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `e2e/[$LATEST]${containers}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    try {
      return await handler(event, context);
    } finally {
      inFlight--;
    }
  });
  return { name, configuration, taskRoot, remove: () => served.remove() };
}

/** A deployed layer version unpacked into `dir`, as Lambda lays layers out under /opt. */
export async function fetchDeployedLayer(h: Harness, layerVersionArn: string, dir: string): Promise<string> {
  const got = await h.frontClients.lambda.send(new GetLayerVersionByArnCommand({ Arn: layerVersionArn }));
  const zip = await download(got.Content?.Location, got.Content?.CodeSha256, `layer ${layerVersionArn}`);
  await unzipTo(zip, dir);
  return dir;
}
