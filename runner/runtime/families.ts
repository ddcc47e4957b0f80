// Lambda runtime identifiers: which family a runtime belongs to, and which image serves the ones the runner cannot.
import { UsageError } from '../errors.js';

export const RuntimeFamily = {
  python: 'python',
  node: 'nodejs',
  custom: 'provided',
  other: 'other',
} as const;
export type RuntimeFamily = (typeof RuntimeFamily)[keyof typeof RuntimeFamily];

const known =
  /^(python3\.\d+|nodejs\d+\.x|provided(\.al2|\.al2023)?|java\d+(\.al2|\.al2023)?|dotnet(core)?\d+(\.\d+)?|ruby\d+\.\d+|go1\.x)$/;

/** The family of a runtime identifier; UsageError for something that is not a Lambda runtime (a bad flag). */
export function runtimeFamily(runtime: string): RuntimeFamily {
  const family = familyOf(runtime);
  if (family === undefined) throw new UsageError(unknownRuntime(runtime));
  return family;
}

export function unknownRuntime(runtime: string): string {
  return `unknown runtime ${JSON.stringify(runtime)} (expected a Lambda runtime such as python3.12, nodejs20.x, provided.al2023)`;
}

/** The family of a runtime identifier, or undefined when it is none Lambda knows. */
export function familyOf(runtime: string): RuntimeFamily | undefined {
  if (!known.test(runtime)) return undefined;
  if (runtime.startsWith('python')) return RuntimeFamily.python;
  if (runtime.startsWith('nodejs')) return RuntimeFamily.node;
  if (runtime.startsWith('provided')) return RuntimeFamily.custom;
  return RuntimeFamily.other;
}

/** The AWS Lambda base image that carries a runtime's official client, for "use this image" messages. */
export function baseImageFor(runtime: string): string {
  const m = /^([a-z]+?)(\d.*)?$/.exec(runtime.replace(/\.x$|\.al2$/, ''));
  const lang = m?.[1] ?? runtime;
  const version = m?.[2] ?? 'latest';
  return `public.ecr.aws/lambda/${lang}:${version}`;
}
