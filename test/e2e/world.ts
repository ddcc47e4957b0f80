// One e2e world per test file: moto with template.yaml deployed as a CloudFormation stack (stack.ts), the stack's
// dispatcher and post-batch answering Invoke from their deployed code (lambda-container.ts), and jobs run as Batch
// would: in their image's container when a Docker engine answers (the job definition's image mapped to the one
// test/images builds from images/Dockerfile on its stand-in base), else as processes on this host; each job says
// which ran.
// Everything a test needs about the deployment comes from the stack's outputs and parameters.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  type JobDefinition,
  type JobDetail,
} from '@aws-sdk/client-batch';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { BatchJobAnswer } from '../../lib/request.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { skipReason } from '../images/docker.js';
import { ensureImages } from '../images/images.js';
import { type ArrayChildResult, arraySizeOf, executeArrayJob } from '../integration/harness/batch-array.js';
import {
  type ExecuteJobOptions,
  executeJob,
  type JobResult,
  REPO_ROOT,
} from '../integration/harness/batch-exec.js';
import { fakeAuth } from '../integration/harness/clients.js';
import { ACCOUNT_ID, getObject, REGION } from '../integration/harness/fixtures.js';
import { type Harness, startHarness } from '../integration/harness/index.js';
import type { ImageResolver, LocalImage } from '../integration/harness/local-images.js';
import { type DeployedFunction, serveDeployedFunction } from './lambda-container.js';
import { createStack, type Stack, updateStack } from './stack.js';

/** Access keys standing for the roles of the callers whose calls the IAM check reads (moto accepts any key). */
export const Callers = {
  dispatcher: 'AKIDE2EDISPATCHER',
  job: 'AKIDE2EJOBROLE',
  feeder: 'AKIDE2EFEEDER',
  postBatch: 'AKIDE2EPOSTBATCH',
  stateMachine: 'AKIDE2ESTATEMACHINE',
} as const;

export const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

/** A function error from Invoke, as the SDK hands it over: `name` is the function's errorType. */
export class FunctionError extends Error {}

export interface E2eWorld {
  h: Harness;
  stack: Stack;
  /** the dispatcher as deployed, answering Invoke (its configuration is GetFunction's) */
  dispatcher: DeployedFunction;
  /** post-batch as deployed, answering Invoke */
  postBatch: DeployedFunction;
  /** scratch folder for this file (handlers' side files, per-job caches) */
  dir: string;
  /** `aws lambda invoke` on the DispatcherName output; a function error is thrown as a FunctionError */
  dispatch(event: unknown): Promise<BatchJobAnswer>;
  describeJob(jobId: string): Promise<JobDetail>;
  describeDefinition(arn: string): Promise<JobDefinition>;
  /**
   * runs the job as Batch would start its container(s), in a fresh container (empty cache and /opt); `images` adds
   * the local stand-ins of images the run-lambda ones are not (an image function's own)
   */
  runJob(jobId: string, opts?: { images?: ImageResolver; env?: Record<string, string> }): Promise<JobResult>;
  /** how this file's jobs run: in the run-lambda images' containers, or as processes, and why */
  jobsRun(): Promise<string>;
  /** runs the children of an array job (all, or `only` those), each in a fresh container; `child` adds options */
  runArrayJob(
    jobId: string,
    opts?: {
      only?: number[];
      child?: (index: number) => ExecuteJobOptions;
      /** run the children as processes even where an engine answers (a hundred containers cost minutes) */
      asProcesses?: boolean;
    },
  ): Promise<ArrayChildResult[]>;
  /** the bytes at an s3:// URL, or undefined when there is no such object */
  read(url: string): Promise<Buffer | undefined>;
  /** updates the stack's parameters; the functions are served again from their updated configuration */
  update(changes: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/** Calls an EC2 query-API action on moto (no EC2 SDK client is installed) and returns the first `<tag>` value. */
async function ec2(h: Harness, action: string, params: Record<string, string>, tag: string): Promise<string> {
  const res = await fetch(`${h.motoEndpoint}/`, {
    method: 'POST',
    headers: { ...fakeAuth('ec2'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: action, Version: '2016-11-15', ...params }),
  });
  const text = await res.text();
  const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(text);
  if (!res.ok || !m?.[1]) throw new Error(`EC2 ${action} failed: ${res.status} ${text}`);
  return m[1];
}

/** A VPC with one subnet and one security group: what a user passes as Subnets and SecurityGroupIds. */
export async function network(h: Harness): Promise<{ Subnets: string; SecurityGroupIds: string }> {
  const vpc = await ec2(h, 'CreateVpc', { CidrBlock: '10.0.0.0/16' }, 'vpcId');
  const subnet = await ec2(h, 'CreateSubnet', { VpcId: vpc, CidrBlock: '10.0.1.0/24' }, 'subnetId');
  const group = await ec2(
    h,
    'CreateSecurityGroup',
    { VpcId: vpc, GroupName: 'e2e-jobs', GroupDescription: 'e2e jobs' },
    'groupId',
  );
  return { Subnets: subnet, SecurityGroupIds: group };
}

export interface E2eOptions {
  /** stack parameters, made with the harness before the stack is created (default: a new network) */
  parameters?: (h: Harness) => Promise<Record<string, string>>;
}

/** How jobs run here: the run-lambda images as built by test/images (by image id), or none and why. */
interface JobImages {
  resolver?: ImageResolver;
  note: string;
}

/**
 * The stack's run-lambda images (`<repository>:<ImageVersion>-<runtime>-<arch>`, as the job definitions and the image
 * functions' runner name them) mapped to the images test/images built: every x86_64 one, and those built for arm64.
 */
async function jobImages(parameters: Record<string, string>): Promise<JobImages> {
  const reason = skipReason();
  if (reason) return { note: `as processes on this host (no containers: ${reason})` };
  const set = await ensureImages();
  const table = new Map<string, LocalImage>();
  for (const built of set.images) {
    const repository =
      built.flavour === 'geolambda' ? parameters.GeoLambdaImageRepository : parameters.LambdaImageRepository;
    table.set(`${repository}:${parameters.ImageVersion}-${built.runtime}-${built.arch}`, {
      kind: 'docker',
      ref: built.id,
      describe: `container ${built.tags[0]} (${built.id.slice(0, 19)}) built on ${built.ranOn}`,
    });
  }
  return { resolver: (image) => table.get(image), note: 'in the run-lambda images built by test/images' };
}

/**
 * How long a file's setup may take: it deploys the stack and, where a Docker engine answers, builds (or finds in the
 * engine's cache) the images its jobs run in, which on a cold cache takes minutes.
 */
export const E2E_SETUP_TIMEOUT_MS = 45 * 60_000;

/** Starts moto, deploys the stack `stackName`, and serves its dispatcher. */
export async function startE2e(stackName: string, opts: E2eOptions = {}): Promise<E2eWorld> {
  for (const f of [
    'dist/dispatcher/index.mjs',
    'dist/post-batch/index.mjs',
    'dist/run-lambda.mjs',
    'dist/layer',
  ])
    assert.ok(existsSync(join(REPO_ROOT, f)), `${f} is missing: run \`npm run build\` first`);
  const h = await startHarness();
  const dir = await mkdtemp(join(tmpdir(), `${stackName}-`));
  try {
    let stack = await createStack(h, stackName, await (opts.parameters ?? network)(h));
    const serve = (output: string, accessKeyId: string) =>
      serveDeployedFunction(h, stack.outputs[output] ?? '', { scratch: dir, accessKeyId });
    let dispatcher = await serve('DispatcherName', Callers.dispatcher);
    let postBatch = await serve('PostBatchName', Callers.postBatch);
    let jobs = 0;
    let images: Promise<JobImages> | undefined;
    const imagesOnce = () => {
      images ??= jobImages(stack.parameters);
      return images;
    };
    await imagesOnce();
    // Each Batch job (each child of an array) starts a new container: nothing cached, an empty /opt. As a process it is
    // not the real /opt of this machine, though, so the runner gets its twin env vars pointing into the scratch folder.
    const freshContainer = async (
      own: { images?: ImageResolver; env?: Record<string, string>; asProcess?: boolean } = {},
    ): Promise<ExecuteJobOptions> => {
      const { resolver } = await imagesOnce();
      const container = join(dir, `container-${++jobs}`);
      return {
        images: own.asProcess ? () => undefined : (image) => own.images?.(image) ?? resolver?.(image),
        // Handlers here keep copies of what they return under the scratch folder, at the same path inside.
        volumes: [`${dir}:${dir}`],
        env: { AWS_ACCESS_KEY_ID: Callers.job, ...own.env },
        processEnv: {
          RUN_LAMBDA_CACHE_DIR: join(container, 'cache'),
          RUN_LAMBDA_OPT_DIR: join(container, 'opt'),
        },
      };
    };
    return {
      h,
      get stack() {
        return stack;
      },
      get dispatcher() {
        return dispatcher;
      },
      get postBatch() {
        return postBatch;
      },
      dir,
      async dispatch(event) {
        const out = await h.frontClients.lambda.send(
          new InvokeCommand({
            FunctionName: stack.outputs.DispatcherName,
            Payload: Buffer.from(JSON.stringify(event)),
          }),
        );
        const answer = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
        if (out.FunctionError) {
          const e = new FunctionError(String(answer?.errorMessage));
          e.name = String(answer?.errorType);
          throw e;
        }
        return answer as BatchJobAnswer;
      },
      async describeJob(jobId) {
        const { jobs } = await h.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
        assert.equal(jobs?.length, 1, `no Batch job ${jobId}`);
        return jobs[0] as JobDetail;
      },
      async describeDefinition(arn) {
        // Through the front, which answers an ecsProperties definition as Batch does (moto keeps a stand-in).
        const out = await h.frontClients.batch.send(
          new DescribeJobDefinitionsCommand({ jobDefinitions: [arn] }),
        );
        assert.equal(out.jobDefinitions?.length, 1, `no job definition ${arn}`);
        return out.jobDefinitions[0] as JobDefinition;
      },
      async runJob(jobId, opts = {}) {
        const r = await executeJob(h, jobId, await freshContainer(opts));
        const where =
          r.ranIn === 'process'
            ? `as a process on this host (${(await imagesOnce()).note})`
            : `in ${r.ranIn}`;
        process.stdout.write(`job ${jobId} ran ${where}\n`);
        return r;
      },
      async runArrayJob(jobId, opts = {}) {
        // Containers are set up before the children start (each child gets its own fresh one).
        const size = arraySizeOf(h, jobId) ?? 0;
        const indexes = opts.only ?? Array.from({ length: size }, (_, i) => i);
        const fresh = new Map<number, ExecuteJobOptions>();
        for (const i of indexes) fresh.set(i, await freshContainer({ asProcess: opts.asProcesses }));
        return executeArrayJob(h, jobId, {
          ...(opts.only ? { only: opts.only } : {}),
          child: (i) => {
            const base = fresh.get(i) ?? {};
            const own = opts.child?.(i) ?? {};
            return {
              ...base,
              ...own,
              env: { ...base.env, ...own.env },
              processEnv: { ...base.processEnv, ...own.processEnv },
            };
          },
        });
      },
      async jobsRun() {
        return (await imagesOnce()).note;
      },
      async read(url) {
        const { bucket, key } = parseS3Url(url);
        return getObject(h, bucket, key);
      },
      async update(changes) {
        stack = await updateStack(h, stack, changes);
        dispatcher.remove();
        postBatch.remove();
        dispatcher = await serve('DispatcherName', Callers.dispatcher);
        postBatch = await serve('PostBatchName', Callers.postBatch);
      },
      async stop() {
        await h.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** `*`-globs as Batch matches onExitCode / onStatusReason / onReason. */
const globMatches = (glob: string, value: string) =>
  new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);

/**
 * What Batch does after an attempt that exited with `exitCode`, by the definition's registered retry strategy
 * (first matching rule; none matching means retry while attempts remain).
 */
export function retryAction(def: JobDefinition, exitCode: number): 'retry' | 'exit' {
  for (const rule of def.retryStrategy?.evaluateOnExit ?? []) {
    if (rule.onExitCode !== undefined && globMatches(rule.onExitCode, String(exitCode)))
      return rule.action?.toLowerCase() === 'exit' ? 'exit' : 'retry';
  }
  return 'retry';
}
