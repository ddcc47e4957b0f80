// What an image function's job runs with, decided before anything is written or registered: whether it can be such a
// job at all (image functions on, on Fargate, its image from an allowed ECR repository, nothing Batch cannot
// express), and its container's environment as Lambda would give it. Its two-container definition is in
// function-image-definition.ts.
import { Architecture } from '../../lib/architecture.js';
import { FunctionNotAllowedError, InvalidRequestError, UnsupportedRuntimeError } from '../../lib/errors.js';
import { globToRegExp } from '../../lib/glob.js';
import { EXTERNAL_RUNTIME_API, RUN_LAMBDA_JOB, RUNNER_ENV_PREFIX } from '../../lib/job-plan.js';
import { parseFunctionRef } from '../../lib/lambda-arn.js';
import type { BatchJobRequest } from '../../lib/request.js';
import type { ImageFunctionConfig } from './config.js';
import type { FunctionImage, TargetFunction } from './functions.js';

const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)@sha256:([0-9a-f]{64})$/;

/** The ECR repository ARN of a resolved image URI, or undefined when it is not a private ECR image. */
export function ecrRepositoryArn(resolved: string, partition: string): string | undefined {
  const m = ECR_IMAGE.exec(resolved);
  return m ? `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}` : undefined;
}

/**
 * Refuses what cannot become such a job, before anything is written: image functions off or not on Fargate, an
 * image outside ALLOWED_IMAGE_REPOSITORIES, request fields that do not apply, and image settings Batch cannot
 * express (a Batch container has no entrypoint or working directory of its own: the image's stay).
 */
export function checkFunctionImage(
  fn: TargetFunction,
  req: Pick<BatchJobRequest, 'image' | 'gpus'>,
  config: ImageFunctionConfig | undefined,
): FunctionImage {
  const what = `function ${fn.jobArn} is a container image (PackageType Image)`;
  if (!config)
    throw new UnsupportedRuntimeError(
      `${what}, and image functions are off: ALLOWED_IMAGE_REPOSITORIES is unset (the stack's FunctionImageRepositories)`,
    );
  if (config.platform !== 'FARGATE')
    throw new UnsupportedRuntimeError(
      `${what}: its job is two containers that share 127.0.0.1, which Batch gives them on Fargate only; this dispatcher's jobs run on ${config.platform} (JOB_PLATFORM)`,
    );
  const image = fn.image;
  if (!image) throw new UnsupportedRuntimeError(`${what}, and its image was not resolved`);
  const partition = parseFunctionRef(fn.arn)?.home?.partition ?? 'aws';
  const repository = ecrRepositoryArn(image.resolved, partition);
  if (!repository)
    throw new FunctionNotAllowedError(
      `the image of function ${fn.jobArn} is not an ECR image by digest: ${image.resolved}`,
    );
  if (!config.repositories.some((g) => globToRegExp(g).test(repository)))
    throw new FunctionNotAllowedError(
      `the image of function ${fn.jobArn} (${repository}) is not allowed by ALLOWED_IMAGE_REPOSITORIES (${config.repositories.join(', ')})`,
    );
  if (req.image !== undefined && req.image !== 'lambda')
    throw new InvalidRequestError(
      `image: ${req.image} does not apply to ${fn.jobArn}: a container-image function runs its own image (beside the plain run-lambda runner)`,
    );
  if (req.gpus) throw new InvalidRequestError('gpus: image functions run on Fargate, which has no GPUs');
  if (image.architecture === Architecture.arm64 && config.runnerImageArm64 === undefined)
    throw new UnsupportedRuntimeError(
      `${what} built for arm64, and this dispatcher has no arm64 runner image (RUNNER_IMAGE_ARM64) to run beside it`,
    );
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
