// The job definition a zip function's job runs on: the one of its flavour, runtime and architecture (a
// JOB_DEFINITIONS override for its key, else the name the stack gives it under JOB_DEFINITION_PREFIX, the template's
// naming). Its queue is job-queue.ts's.
import { Architecture } from '../../lib/architecture.js';
import type { ImageName } from '../../lib/job-plan.js';
import { DEFAULT_RUNTIME, type DispatcherConfig } from './config.js';

const ARM64 = Architecture.arm64;

/** The key a definition is configured under: `<flavour>:<runtime>`, and `:arm64` after it for arm64. */
export function definitionKey(flavour: ImageName, runtime: string, architecture: string): string {
  return architecture === ARM64 ? `${flavour}:${runtime}:${ARM64}` : `${flavour}:${runtime}`;
}

/**
 * The stack's name for a definition: `<prefix>-<flavour>` for python3.12 (the images' default, whose definitions keep
 * the names they had before there were others), `<prefix>-<flavour>-<runtime with dots as dashes>` for the others,
 * and `-arm64` after either for arm64 (scripts/template-matrix.mjs definitionOf names them so).
 */
export function derivedDefinitionName(
  prefix: string,
  flavour: ImageName,
  runtime: string,
  architecture: string,
): string {
  const name = runtime === DEFAULT_RUNTIME ? flavour : `${flavour}-${runtime.replaceAll('.', '-')}`;
  return `${prefix}-${name}${architecture === ARM64 ? `-${ARM64}` : ''}`;
}

/** The definition of an image on an architecture: its override, else the prefix's name when the stack has one. */
export function jobDefinitionFor(
  config: Pick<DispatcherConfig, 'jobDefinitions' | 'definitionPrefix'>,
  flavour: ImageName,
  runtime: string,
  architecture: string,
): string | undefined {
  const override = config.jobDefinitions[definitionKey(flavour, runtime, architecture)];
  if (override !== undefined) return override;
  const derived = config.definitionPrefix;
  if (derived === undefined || !derived.images.includes(`${flavour}:${runtime}`)) return undefined;
  return derivedDefinitionName(derived.prefix, flavour, runtime, architecture);
}

/** What the dispatcher can run, for messages: its overrides' keys and the prefix's images on both architectures. */
export function configuredImages(
  config: Pick<DispatcherConfig, 'jobDefinitions' | 'definitionPrefix'>,
): string {
  const keys = new Set(Object.keys(config.jobDefinitions));
  for (const image of config.definitionPrefix?.images ?? []) {
    keys.add(image);
    keys.add(`${image}:${ARM64}`);
  }
  return [...keys].sort().join(', ');
}
