// The SubmitJob request for one dispatch: names, stack prefixing, resources, timeout and retry strategy.
import type { ContainerOverrides, ResourceRequirement, SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { BatchLimits, JOB_NAME, type JobOptions } from '../../lib/request.js';

/** The job's parameters: every value a string, as Batch requires. */
export interface JobParameters {
  lambda_function: string;
  url: string;
  url_out: string;
  [key: string]: string;
}

/**
 * When a SubmitJob carries its own retryStrategy it replaces the definition's entirely, so the template's
 * rule (the list in template.yaml's job definitions) travels with it: retry a lost EC2 host or Fargate Spot
 * task and exit code 4 (payload I/O); stop on anything else (1 function failed, 2 bad input, 3 function not
 * preparable, 124 timeout, 143 cancelled).
 */
export const RETRY_ON_EXIT = [
  { onStatusReason: 'Host EC2*', action: 'RETRY' },
  { onStatusReason: 'Your Spot Task was interrupted*', action: 'RETRY' },
  { onExitCode: '4', action: 'RETRY' },
  { onExitCode: '*', action: 'EXIT' },
] as const;

/** cirrus-lib's convention: a bare name gets `${CIRRUS_STACK}-` in front; ARNs and already-prefixed names don't. */
export function withStackPrefix(nameOrArn: string, stack: string | undefined): string {
  if (!stack || nameOrArn.startsWith('arn:') || nameOrArn.startsWith(`${stack}-`)) return nameOrArn;
  return `${stack}-${nameOrArn}`;
}

/** A valid Batch job name from a function name and qualifier (`$LATEST` is dropped; others are appended). */
export function jobNameFor(functionName: string, qualifier: string | undefined): string {
  const raw = qualifier && qualifier !== '$LATEST' ? `${functionName}-${qualifier}` : functionName;
  let name = raw.replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  name = name.slice(0, BatchLimits.maxJobNameLength);
  return JOB_NAME.test(name) ? name : 'lambda-job';
}

function resources(options: JobOptions): ResourceRequirement[] {
  const out: ResourceRequirement[] = [];
  if (options.vcpus !== undefined) out.push({ type: 'VCPU', value: String(options.vcpus) });
  if (options.memory !== undefined) out.push({ type: 'MEMORY', value: String(options.memory) });
  // Batch rejects a GPU requirement of 0; leaving it out asks for none.
  if (options.gpus) out.push({ type: 'GPU', value: String(options.gpus) });
  return out;
}

export interface JobSpec {
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
  parameters: JobParameters;
  options: JobOptions;
}

export function submitJobInput(spec: JobSpec): SubmitJobCommandInput {
  const input: SubmitJobCommandInput = {
    jobName: spec.jobName,
    jobQueue: spec.jobQueue,
    jobDefinition: spec.jobDefinition,
    parameters: { ...spec.parameters },
  };
  const req = resources(spec.options);
  if (req.length > 0) input.containerOverrides = { resourceRequirements: req } satisfies ContainerOverrides;
  if (spec.options.timeout !== undefined) input.timeout = { attemptDurationSeconds: spec.options.timeout };
  if (spec.options.attempts !== undefined)
    input.retryStrategy = {
      attempts: spec.options.attempts,
      evaluateOnExit: RETRY_ON_EXIT.map((e) => ({ ...e })),
    };
  return input;
}
