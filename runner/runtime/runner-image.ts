// Each run-lambda image serves one Lambda runtime (RUN_LAMBDA_IMAGE_RUNTIME, set by images/Dockerfile): a function of another
// runtime is refused before anything starts (a python3.13 function's compiled wheels do not import on 3.12).
import { type Env, envString } from '../../lib/env.js';
import { RUN_LAMBDA_IMAGE, RUN_LAMBDA_IMAGE_RUNTIME } from '../../lib/job-plan.js';
import { RuntimeNotAvailableError } from '../errors.js';
import { runtimeFamily } from './families.js';

export interface RunnerImageDeps {
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
export function checkRunnerImage(deps: RunnerImageDeps): string {
  const image = envString(deps.env, RUN_LAMBDA_IMAGE_RUNTIME);
  if (!image || image === deps.runtime) return deps.runtime;
  if (deps.guessed && runtimeFamily(image) === runtimeFamily(deps.runtime)) return image;
  const name = envString(deps.env, RUN_LAMBDA_IMAGE);
  const suffix = `-${image}`;
  const use = name?.endsWith(suffix)
    ? `${name.slice(0, -suffix.length)}-${deps.runtime}`
    : `the run-lambda image for ${deps.runtime} (run-lambda:<version>-${deps.runtime})`;
  throw new RuntimeNotAvailableError(
    `${deps.functionName} runs on ${deps.runtime} but this image${name ? ` (${name})` : ''} serves ${image}: run it in ${use}`,
  );
}
