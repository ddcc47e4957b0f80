// Each run-lambda image serves one Lambda runtime (RUN_LAMBDA_IMAGE_RUNTIME, set by images/Dockerfile): a function of another
// runtime is refused before anything starts (a python3.13 function's compiled wheels do not import on 3.12).
import type { Env } from '../../lib/env.js';
import { envString } from '../../lib/env.js';
import { RuntimeNotAvailableError } from '../errors.js';
import { runtimeFamily } from './families.js';

export interface RunnerImageInput {
  functionName: string;
  runtime: string;
  /** true when the runtime was only guessed from local files (no --runtime, no function configuration) */
  guessed: boolean;
  env: Env;
}

/**
 * The runtime to run the function with in this image: the function's own, or, for a guessed one of the image's
 * family, the image's. Throws RuntimeNotAvailableError (exit 3) naming the image to use otherwise.
 */
export function checkRunnerImage(input: RunnerImageInput): string {
  const image = envString(input.env, 'RUN_LAMBDA_IMAGE_RUNTIME');
  if (!image || image === input.runtime) return input.runtime;
  if (input.guessed && runtimeFamily(image) === runtimeFamily(input.runtime)) return image;
  const name = envString(input.env, 'RUN_LAMBDA_IMAGE');
  const suffix = `-${image}`;
  const use = name?.endsWith(suffix)
    ? `${name.slice(0, -suffix.length)}-${input.runtime}`
    : `the run-lambda image for ${input.runtime} (run-lambda:<version>-${input.runtime})`;
  throw new RuntimeNotAvailableError(
    `${input.functionName} runs on ${input.runtime} but this image${name ? ` (${name})` : ''} serves ${image}: run it in ${use}`,
  );
}
