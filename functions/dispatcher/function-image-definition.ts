// An image function's two-container job definition, named and hashed before it is registered: the run-lambda runner
// (essential: its exit code is the job's), a gate that waits for the runner's Runtime API, and the function's own
// image, in one Fargate task with one PID namespace.
import { createHash } from 'node:crypto';
import type {
  EcsTaskProperties,
  KeyValuePair,
  RegisterJobDefinitionCommandInput,
  TaskContainerProperties,
} from '@aws-sdk/client-batch';
import { Architecture } from '../../lib/architecture.js';
import {
  EXTERNAL_RUNTIME_API,
  FUNCTION_CONTAINER,
  JobParameterNames,
  READY_CONTAINER,
  RESOLVED_IMAGE,
  RETRY_ON_EXIT,
  RUN_LAMBDA_JOB_TIMEOUT,
  RUN_LAMBDA_LOG_LEVEL,
  RUNNER_CONTAINER,
} from '../../lib/job-plan.js';
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

/** The run-lambda image of the runner and the gate: the one of the function's architecture (checked to be there). */
export function runnerImageOf(config: ImageFunctionConfig, architecture: string): string {
  return architecture === Architecture.arm64
    ? (config.runnerImageArm64 ?? config.runnerImage)
    : config.runnerImage;
}

/** The runner: `run --external-runtime` with the job's parameters, the dispatcher's log level and the attempt's time. */
function runnerContainer(config: ImageFunctionConfig, image: string): TaskContainerProperties {
  return {
    name: RUNNER_CONTAINER,
    image,
    essential: true,
    command: [
      'run',
      '--external-runtime',
      '--runtime-api',
      EXTERNAL_RUNTIME_API,
      ...JobParameterNames.map((n) => `Ref::${n}`),
    ],
    environment: [
      ...(config.runnerLogLevel ? [{ name: RUN_LAMBDA_LOG_LEVEL, value: config.runnerLogLevel }] : []),
      // The attempt's duration below, which the runner keeps the handler's deadline within (a request's own
      // `timeout` overrides both).
      ...(config.timeoutSeconds
        ? [{ name: RUN_LAMBDA_JOB_TIMEOUT, value: String(config.timeoutSeconds) }]
        : []),
    ],
  };
}

/** The gate: on the runner's image (already pulled), started with the runner, done once its Runtime API listens. */
function readyContainer(image: string): TaskContainerProperties {
  return {
    name: READY_CONTAINER,
    image,
    essential: false,
    dependsOn: [{ containerName: RUNNER_CONTAINER, condition: 'START' }],
    command: [RUNNER_NODE, '-e', READY_SCRIPT, EXTERNAL_RUNTIME_API, String(READY_TIMEOUT_SECONDS)],
  };
}

/** The function: its image's entrypoint with ImageConfig.Command, started once the gate exited 0. */
function functionContainer(
  image: FunctionImage,
  environment: Record<string, string>,
  config: ImageFunctionConfig,
): TaskContainerProperties {
  return {
    name: FUNCTION_CONTAINER,
    image: image.resolved,
    essential: false,
    dependsOn: [{ containerName: READY_CONTAINER, condition: 'SUCCESS' }],
    ...(image.command ? { command: image.command } : {}),
    environment: pairs(environment),
    resourceRequirements: [
      { type: 'VCPU' as const, value: config.vcpus },
      { type: 'MEMORY' as const, value: String(config.memory) },
    ],
  };
}

/** The task of `containers`: the roles, one PID namespace, the network and the image's architecture. */
function taskProperties(
  containers: TaskContainerProperties[],
  architecture: string,
  config: ImageFunctionConfig,
): EcsTaskProperties {
  return {
    taskRoleArn: config.jobRoleArn,
    executionRoleArn: config.executionRoleArn,
    platformVersion: 'LATEST',
    // One PID namespace for the task: the runner finds the function's runtime by its connection and sees it go
    // (a dead runtime fails the run within seconds, not at the job's timeout).
    pidMode: 'task',
    networkConfiguration: { assignPublicIp: config.assignPublicIp },
    runtimePlatform: {
      operatingSystemFamily: 'LINUX',
      cpuArchitecture: architecture === Architecture.arm64 ? 'ARM64' : 'X86_64',
    },
    containers,
  };
}

/**
 * The RegisterJobDefinition input for `fn` (already checked). The runner is the essential container, so its exit
 * ends the task (ECS stops the others) and its exit code is the job's, which the retry rules read; the task's one
 * PID namespace lets it see the function's runtime die. The function's container is not essential and starts only
 * after the gate exited 0 (dependsOn SUCCESS): Batch's START condition means "started", not "listening", and the
 * Lambda runtime clients do not retry a refused first connection.
 */
export function functionImageDefinition(
  fn: TargetFunction,
  image: FunctionImage,
  environment: Record<string, string>,
  config: ImageFunctionConfig,
): FunctionImageDefinition {
  const digest = RESOLVED_IMAGE.exec(image.resolved)?.[3] ?? '';
  const name = definitionName(config.definitionPrefix, fn.name, digest);
  const runner = runnerImageOf(config, image.architecture);
  const input: RegisterJobDefinitionCommandInput = {
    jobDefinitionName: name,
    type: 'container',
    platformCapabilities: ['FARGATE'],
    propagateTags: true,
    parameters: Object.fromEntries(JobParameterNames.map((n) => [n, ''])),
    retryStrategy: { attempts: config.attempts, evaluateOnExit: RETRY_ON_EXIT.map((e) => ({ ...e })) },
    ...(config.timeoutSeconds ? { timeout: { attemptDurationSeconds: config.timeoutSeconds } } : {}),
    ecsProperties: {
      taskProperties: [
        taskProperties(
          [
            runnerContainer(config, runner),
            readyContainer(runner),
            functionContainer(image, environment, config),
          ],
          image.architecture,
          config,
        ),
      ],
    },
  };
  const spec = sha(canonical(input)).slice(0, 16);
  input.parameters = { ...input.parameters, [SPEC_PARAMETER]: spec };
  return { name, spec, image: image.resolved, input };
}
