// An image function's two-container job definition (DESIGN.md "Image functions"): checked, named and hashed, before
// anything is written or registered. The function's own image runs beside the run-lambda runner in one Fargate task.
import { createHash } from 'node:crypto';
import type { KeyValuePair, RegisterJobDefinitionCommandInput } from '@aws-sdk/client-batch';
import { FunctionNotAllowedError, InvalidRequestError, UnsupportedRuntimeError } from '../../lib/errors.js';
import { globToRegExp } from '../../lib/glob.js';
import {
  EXTERNAL_RUNTIME_API,
  FUNCTION_CONTAINER,
  JobParameterNames,
  READY_CONTAINER,
  RESOLVED_IMAGE,
  RETRY_ON_EXIT,
  RUN_LAMBDA_JOB,
  RUN_LAMBDA_JOB_TIMEOUT,
  RUN_LAMBDA_LOG_LEVEL,
  RUNNER_CONTAINER,
  RUNNER_ENV_PREFIX,
} from '../../lib/job-plan.js';
import { parseFunctionRef } from '../../lib/lambda-arn.js';
import type { BatchJobRequest } from '../../lib/request.js';
import type { ImageFunctionConfig } from './config.js';
import type { FunctionImage, TargetFunction } from './functions.js';

/** The definition parameter that holds the hash of everything else in it: how a registered one is found again. */
export const SPEC_PARAMETER = 'run_lambda_spec';

/** What the dispatcher registers for one image function (once per digest and configuration). */
export interface FunctionImageDefinition {
  /** `<prefix>-<function>-<first 12 hex of the digest>` */
  name: string;
  /** 16 hex of the SHA-256 of the definition without this value: a changed configuration is a new revision */
  spec: string;
  /** the function's image by digest */
  image: string;
  input: RegisterJobDefinitionCommandInput;
}

const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)@sha256:([0-9a-f]{64})$/;

/** The ECR repository ARN of a resolved image URI, or undefined when it is not a private ECR image. */
export function ecrRepositoryArn(resolved: string, partition: string): string | undefined {
  const m = ECR_IMAGE.exec(resolved);
  return m ? `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}` : undefined;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** JSON with sorted keys, so the hash does not depend on the order fields were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A Batch job definition name (at most 128 of letters, digits, `-`, `_`) from the prefix, function and digest. */
export function definitionName(prefix: string, functionName: string, digest: string): string {
  const tail = `-${digest.slice(0, 12)}`;
  const room = 128 - prefix.length - 1 - tail.length;
  const fn =
    functionName.length <= room
      ? functionName
      : `${functionName.slice(0, room - 7)}-${sha(functionName).slice(0, 6)}`;
  return `${prefix}-${fn}${tail}`;
}

/**
 * Refuses what cannot become such a job, before anything is written: image functions off or not on Fargate, an
 * image outside ALLOWED_IMAGE_REPOSITORIES, request fields that do not apply, and image settings Batch cannot
 * express (a Batch container has no entrypoint or working directory of its own: the image's stay).
 */
export function checkFunctionImage(
  fn: TargetFunction,
  req: Pick<BatchJobRequest, 'image' | 'gpus'>,
  settings: ImageFunctionConfig | undefined,
): FunctionImage {
  const what = `function ${fn.jobArn} is a container image (PackageType Image)`;
  if (!settings)
    throw new UnsupportedRuntimeError(
      `${what}, and image functions are off: ALLOWED_IMAGE_REPOSITORIES is unset (the stack's FunctionImageRepositories)`,
    );
  if (settings.platform !== 'FARGATE')
    throw new UnsupportedRuntimeError(
      `${what}: its job is two containers that share 127.0.0.1, which Batch gives them on Fargate only; this dispatcher's jobs run on ${settings.platform} (JOB_PLATFORM)`,
    );
  const image = fn.image;
  if (!image) throw new UnsupportedRuntimeError(`${what}, and its image was not resolved`);
  const partition = parseFunctionRef(fn.arn)?.home?.partition ?? 'aws';
  const repository = ecrRepositoryArn(image.resolved, partition);
  if (!repository)
    throw new FunctionNotAllowedError(
      `the image of function ${fn.jobArn} is not an ECR image by digest: ${image.resolved}`,
    );
  if (!settings.repositories.some((g) => globToRegExp(g).test(repository)))
    throw new FunctionNotAllowedError(
      `the image of function ${fn.jobArn} (${repository}) is not allowed by ALLOWED_IMAGE_REPOSITORIES (${settings.repositories.join(', ')})`,
    );
  if (req.image !== undefined && req.image !== 'lambda')
    throw new InvalidRequestError(
      `image: ${req.image} does not apply to ${fn.jobArn}: a container-image function runs its own image (beside the plain run-lambda runner)`,
    );
  if (req.gpus) throw new InvalidRequestError('gpus: image functions run on Fargate, which has no GPUs');
  if (image.entryPoint)
    throw new UnsupportedRuntimeError(
      `${what} with ImageConfig.EntryPoint ${JSON.stringify(image.entryPoint)}: a Batch job's container runs its image's own ENTRYPOINT, which a job definition cannot change; build the image with that ENTRYPOINT instead`,
    );
  if (image.workingDirectory)
    throw new UnsupportedRuntimeError(
      `${what} with ImageConfig.WorkingDirectory ${JSON.stringify(image.workingDirectory)}: a Batch job definition cannot set a container's working directory; build the image with that WORKDIR instead`,
    );
  return image;
}

/**
 * The function container's environment: the function's variables, then Lambda's reserved ones as the runner gives
 * them to zip functions (the image's own ENV, PATH and LAMBDA_TASK_ROOT among them, stays as Lambda keeps it).
 * `RUN_LAMBDA_*` are the runner's and dropped (`dropped` names them); AWS_BATCH_* is Batch's, and a NUL cannot be
 * passed to a process at all: refused, naming the variable, never its value.
 */
export function functionEnvironment(
  fn: TargetFunction,
  image: FunctionImage,
): { environment: Record<string, string>; dropped: string[] } {
  const own: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(image.environment)) {
    const bad =
      k === '' || k.includes('=') || k.includes('\0')
        ? 'its name is empty or holds = or a NUL byte'
        : v.includes('\0')
          ? 'its value holds a NUL byte'
          : k.startsWith('AWS_BATCH')
            ? 'Batch reserves names that start with AWS_BATCH'
            : undefined;
    if (bad)
      throw new UnsupportedRuntimeError(
        `the environment variable ${JSON.stringify(k)} of function ${fn.jobArn} cannot be passed to its container: ${bad}`,
      );
    if (k.startsWith(RUNNER_ENV_PREFIX)) dropped.push(k);
    else own[k] = v;
  }
  const region = parseFunctionRef(fn.arn)?.home?.region ?? '';
  const logging = image.logging;
  return {
    environment: {
      ...own,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: image.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(image.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: logging.logGroup ?? `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      TZ: own.TZ ?? ':UTC',
      AWS_LAMBDA_RUNTIME_API: EXTERNAL_RUNTIME_API,
      [RUN_LAMBDA_JOB]: '1',
      ...(logging.format === 'JSON'
        ? { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: logging.applicationLogLevel ?? 'INFO' }
        : {}),
    },
    dropped,
  };
}

/** The run-lambda images' own Node.js (images/Dockerfile), which the gate container runs. */
export const RUNNER_NODE = '/usr/local/lib/run-lambda/bin/node';
/** Seconds the gate waits for the Runtime API: the runner's own --init-timeout default. */
export const READY_TIMEOUT_SECONDS = 600;
/**
 * The gate: connects to `host:port` every 50 ms until it is accepted (exit 0) or the deadline passes (exit 1). A
 * bare TCP connect, no HTTP request, so the runner sees no runtime until the function's own client asks.
 */
export const READY_SCRIPT =
  "const [a,t]=process.argv.slice(1),i=a.lastIndexOf(':'),h=a.slice(0,i),p=+a.slice(i+1),end=Date.now()+t*1e3;" +
  "(function go(){const s=require('net').connect(p,h,()=>{s.destroy();process.exit(0)});" +
  "s.on('error',()=>{s.destroy();if(Date.now()>end)process.exit(1);setTimeout(go,50)})})()";

const pairs = (env: Record<string, string>): KeyValuePair[] =>
  Object.entries(env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));

/**
 * The RegisterJobDefinition input for `fn` (already checked). The runner is the essential container, so its exit
 * ends the task (ECS stops the others) and its exit code is the job's, which the retry rules read; the task's one
 * PID namespace lets it see the function's runtime die. The function's
 * container is not essential, with its image's entrypoint and ImageConfig.Command, and starts only after the gate
 * exited 0 (dependsOn SUCCESS): Batch's START condition means "started", not "listening", and the Lambda runtime
 * clients do not retry a refused first connection. The gate runs on the runner's image (already pulled).
 */
export function functionImageDefinition(
  fn: TargetFunction,
  image: FunctionImage,
  environment: Record<string, string>,
  settings: ImageFunctionConfig,
): FunctionImageDefinition {
  const digest = RESOLVED_IMAGE.exec(image.resolved)?.[3] ?? '';
  const name = definitionName(settings.definitionPrefix, fn.name, digest);
  const runner = {
    name: RUNNER_CONTAINER,
    image: settings.runnerImage,
    essential: true,
    command: [
      'run',
      '--external-runtime',
      '--runtime-api',
      EXTERNAL_RUNTIME_API,
      ...JobParameterNames.map((n) => `Ref::${n}`),
    ],
    environment: [
      ...(settings.runnerLogLevel ? [{ name: RUN_LAMBDA_LOG_LEVEL, value: settings.runnerLogLevel }] : []),
      // The attempt's duration below, which the runner keeps the handler's deadline within (a request's own
      // `timeout` overrides both).
      ...(settings.timeoutSeconds
        ? [{ name: RUN_LAMBDA_JOB_TIMEOUT, value: String(settings.timeoutSeconds) }]
        : []),
    ],
  };
  const ready = {
    name: READY_CONTAINER,
    image: settings.runnerImage,
    essential: false,
    dependsOn: [{ containerName: RUNNER_CONTAINER, condition: 'START' }],
    command: [RUNNER_NODE, '-e', READY_SCRIPT, EXTERNAL_RUNTIME_API, String(READY_TIMEOUT_SECONDS)],
  };
  const container = {
    name: FUNCTION_CONTAINER,
    image: image.resolved,
    essential: false,
    dependsOn: [{ containerName: READY_CONTAINER, condition: 'SUCCESS' }],
    ...(image.command ? { command: image.command } : {}),
    environment: pairs(environment),
    resourceRequirements: [
      { type: 'VCPU' as const, value: settings.vcpus },
      { type: 'MEMORY' as const, value: String(settings.memory) },
    ],
  };
  const input: RegisterJobDefinitionCommandInput = {
    jobDefinitionName: name,
    type: 'container',
    platformCapabilities: ['FARGATE'],
    propagateTags: true,
    parameters: Object.fromEntries(JobParameterNames.map((n) => [n, ''])),
    retryStrategy: { attempts: settings.attempts, evaluateOnExit: RETRY_ON_EXIT.map((e) => ({ ...e })) },
    ...(settings.timeoutSeconds ? { timeout: { attemptDurationSeconds: settings.timeoutSeconds } } : {}),
    ecsProperties: {
      taskProperties: [
        {
          taskRoleArn: settings.jobRoleArn,
          executionRoleArn: settings.executionRoleArn,
          platformVersion: 'LATEST',
          // One PID namespace for the task: the runner finds the function's runtime by its connection and sees it go
          // (a dead runtime fails the run within seconds, not at the job's timeout).
          pidMode: 'task',
          networkConfiguration: { assignPublicIp: settings.assignPublicIp },
          runtimePlatform: {
            operatingSystemFamily: 'LINUX',
            cpuArchitecture: image.architecture === 'arm64' ? 'ARM64' : 'X86_64',
          },
          containers: [runner, ready, container],
        },
      ],
    },
  };
  const spec = sha(canonical(input)).slice(0, 16);
  input.parameters = { ...input.parameters, [SPEC_PARAMETER]: spec };
  return { name, spec, image: image.resolved, input };
}
