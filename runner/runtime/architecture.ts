// Which machine a function is built for, against this one: a function of another architecture is refused before any
// of its code is downloaded (its native code would not load), unless --ignore-architecture says it holds none
// (docs/runner.md "Architectures").
import { Architecture } from '../../lib/architecture.js';
import { type Env, envString } from '../../lib/env.js';
import { RUN_LAMBDA_IMAGE } from '../../lib/job-plan.js';
import { ArchitectureMismatchError } from '../errors.js';
import type { Logger } from '../log.js';

/** This machine under Lambda's name (`x64` is `x86_64`); a machine Lambda has no name for keeps Node's. */
export function hostArchitecture(arch: string = process.arch): string {
  if (arch === 'x64') return Architecture.x86_64;
  return arch;
}

/**
 * The run-lambda image of `runtime` for `architecture`: this image's name (RUN_LAMBDA_IMAGE, the tag over both
 * architectures) with the architecture after it, else the tag's form.
 */
export function imageFor(architecture: string, runtime: string, env: Env): string {
  const image = envString(env, RUN_LAMBDA_IMAGE);
  if (image) return `${image}-${architecture}`;
  return `run-lambda:<version>-${runtime || 'provided.al2023'}-${architecture}`;
}

export interface ArchitectureCheck {
  functionName: string;
  /** What the function is built for: its configuration's, or what its native files say (`evidence` names one). */
  architecture: string;
  /** The native file that shows it (local code), named in the message. */
  evidence?: string;
  runtime: string;
  /** --ignore-architecture: run it anyway, with a warning */
  ignore: boolean;
  env: Env;
  log: Logger;
  /** This machine (default: the process's). */
  host?: string;
}

/** Returns when the function is built for this machine (or the check is waived, with one warning); throws otherwise. */
export function checkArchitecture(c: ArchitectureCheck): void {
  const host = c.host ?? hostArchitecture();
  if (c.architecture === host) return;
  const mismatch = c.evidence
    ? `${c.functionName}'s native files are built for ${c.architecture} (${c.evidence}), none for this machine (${host})`
    : `${c.functionName} is built for ${c.architecture} but this machine is ${host}`;
  if (c.ignore) {
    c.log.warn(`${mismatch}; running it anyway (--ignore-architecture): native code will not load`);
    return;
  }
  throw new ArchitectureMismatchError(
    `${mismatch}: run it in ${imageFor(c.architecture, c.runtime, c.env)} (or, for code with nothing native, pass --ignore-architecture)`,
  );
}
