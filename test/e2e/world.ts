// One e2e world per test file: moto with the template deployed, the BUILT dispatcher loaded, and jobs run as Batch would.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  type JobDefinition,
  type JobDetail,
} from '@aws-sdk/client-batch';
import type { Context } from 'aws-lambda';
import type { BatchJobAnswer } from '../../lib/request.js';
import { parseS3Url } from '../../lib/s3-url.js';
import { executeJob, type JobResult, REPO_ROOT } from '../integration/harness/batch-exec.js';
import { ACCOUNT_ID, getObject, REGION } from '../integration/harness/fixtures.js';
import { type Harness, startHarness } from '../integration/harness/index.js';
import { type Deployment, deployTemplate } from './deploy.js';

/** Access keys standing for the dispatcher's execution role and the job role (moto accepts any key). */
export const Callers = { dispatcher: 'AKIDE2EDISPATCHER', job: 'AKIDE2EJOBROLE' } as const;

export const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface E2eWorld {
  h: Harness;
  deployment: Deployment;
  /** scratch folder for this file (handlers' side files, per-job caches) */
  dir: string;
  /** invokes the built dispatcher directly, as `aws lambda invoke` would, and returns its answer */
  dispatch(event: unknown): Promise<BatchJobAnswer>;
  describeJob(jobId: string): Promise<JobDetail>;
  describeDefinition(arn: string): Promise<JobDefinition>;
  /** runs the job as Batch would start its container, in a fresh "container" (empty cache and /opt) */
  runJob(jobId: string): Promise<JobResult>;
  /** the bytes at an s3:// URL, or undefined when there is no such object */
  read(url: string): Promise<Buffer | undefined>;
  stop(): Promise<void>;
}

/** A minimal Lambda context, as Lambda hands it to the dispatcher. */
function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: fnArn(functionName),
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2024/01/01/[$LATEST]e2e',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const DISPATCHER_BUNDLE = join(REPO_ROOT, 'dist/dispatcher/index.mjs');

/** Starts moto, deploys the template as `stackName`, and loads the built dispatcher with the template's env. */
export async function startE2e(stackName: string): Promise<E2eWorld> {
  for (const f of [DISPATCHER_BUNDLE, join(REPO_ROOT, 'dist/run-lambda.mjs')])
    assert.ok(existsSync(f), `${f} is missing: run \`npm run build\` first`);
  const h = await startHarness();
  const dir = await mkdtemp(join(tmpdir(), `${stackName}-`));
  try {
    const deployment = await deployTemplate(h, { stackName });
    const functionName = `${stackName}-Dispatcher-E2E`;
    // The bundle reads its config from process.env once, at import, as in a Lambda container. Its AWS
    // calls go through the front, so executeJob finds the SubmitJob request there.
    Object.assign(process.env, h.env, deployment.dispatcherEnv, {
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_ACCESS_KEY_ID: Callers.dispatcher,
      // The dispatcher picks a job definition per runtime (JOB_DEFINITIONS). Until the template has one per image
      // of images/matrix.json, the python3.11 and nodejs20.x functions these tests run go on the lambda one.
      JOB_DEFINITIONS: JSON.stringify({
        'lambda:python3.11': deployment.jobDefinitionArns.lambda,
        'lambda:nodejs20.x': deployment.jobDefinitionArns.lambda,
      }),
    });
    const { handler } = (await import(pathToFileURL(DISPATCHER_BUNDLE).href)) as { handler: Handler };
    let jobs = 0;
    return {
      h,
      deployment,
      dir,
      async dispatch(event) {
        return (await handler(event, lambdaContext(functionName))) as BatchJobAnswer;
      },
      async describeJob(jobId) {
        const { jobs } = await h.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
        assert.equal(jobs?.length, 1, `no Batch job ${jobId}`);
        return jobs[0] as JobDetail;
      },
      async describeDefinition(arn) {
        const out = await h.clients.batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: [arn] }));
        assert.equal(out.jobDefinitions?.length, 1, `no job definition ${arn}`);
        return out.jobDefinitions[0] as JobDefinition;
      },
      runJob(jobId) {
        // Each Batch job starts a new container: nothing cached, an empty /opt. Not the real /opt of this
        // machine, though, so the runner gets its twin env vars pointing into the scratch folder.
        const container = join(dir, `container-${++jobs}`);
        return executeJob(h, jobId, {
          env: {
            RUN_LAMBDA_CACHE_DIR: join(container, 'cache'),
            RUN_LAMBDA_OPT_DIR: join(container, 'opt'),
            AWS_ACCESS_KEY_ID: Callers.job,
          },
        });
      },
      async read(url) {
        const { bucket, key } = parseS3Url(url);
        return getObject(h, bucket, key);
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
