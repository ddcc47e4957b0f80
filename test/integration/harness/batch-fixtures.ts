// Batch fixtures on moto: a compute environment (with its required service role), a job queue, job definitions.
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  type KeyValuePair,
  RegisterJobDefinitionCommand,
  type RetryStrategy,
} from '@aws-sdk/client-batch';
import { createRole, type FixtureTarget } from './fixtures.js';

export interface BatchEnvironment {
  computeEnvironmentName: string;
  computeEnvironmentArn: string;
  jobQueueName: string;
  jobQueueArn: string;
  serviceRoleArn: string;
}

/**
 * Creates an UNMANAGED compute environment (moto needs no VPC for it; its Batch runs nothing anyway)
 * and a job queue on it.
 */
export async function createBatchEnvironment(h: FixtureTarget, name = 'harness'): Promise<BatchEnvironment> {
  const serviceRoleArn = await createRole(h, `${name}-batch-service`, 'batch.amazonaws.com');
  const ce = await h.clients.batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: `${name}-ce`,
      type: 'UNMANAGED',
      state: 'ENABLED',
      serviceRole: serviceRoleArn,
    }),
  );
  const q = await h.clients.batch.send(
    new CreateJobQueueCommand({
      jobQueueName: `${name}-queue`,
      priority: 1,
      state: 'ENABLED',
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: ce.computeEnvironmentArn ?? '' }],
    }),
  );
  return {
    computeEnvironmentName: ce.computeEnvironmentName ?? `${name}-ce`,
    computeEnvironmentArn: ce.computeEnvironmentArn ?? '',
    jobQueueName: q.jobQueueName ?? `${name}-queue`,
    jobQueueArn: q.jobQueueArn ?? '',
    serviceRoleArn,
  };
}

export interface JobDefinitionSpec {
  name: string;
  /** default cirrusgeo/run-lambda:latest */
  image?: string;
  /** default the template's: run Ref::lambda_function Ref::url Ref::url_out */
  command?: string[];
  environment?: Record<string, string>;
  /** default parameter values (Ref:: names) */
  parameters?: Record<string, string>;
  vcpus?: number;
  memory?: number;
  retryStrategy?: RetryStrategy;
  jobRoleArn?: string;
  timeoutSeconds?: number;
}

export const TEMPLATE_COMMAND = ['run', 'Ref::lambda_function', 'Ref::url', 'Ref::url_out'];

/** Registers a container job definition; returns its ARN, name and revision. */
export async function registerJobDefinition(
  h: FixtureTarget,
  spec: JobDefinitionSpec,
): Promise<{ jobDefinitionArn: string; jobDefinitionName: string; revision: number }> {
  const environment: KeyValuePair[] = Object.entries(spec.environment ?? {}).map(([name, value]) => ({
    name,
    value,
  }));
  const out = await h.clients.batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: spec.name,
      type: 'container',
      parameters: spec.parameters,
      retryStrategy: spec.retryStrategy,
      timeout: spec.timeoutSeconds ? { attemptDurationSeconds: spec.timeoutSeconds } : undefined,
      containerProperties: {
        image: spec.image ?? 'cirrusgeo/run-lambda:latest',
        command: spec.command ?? TEMPLATE_COMMAND,
        environment,
        jobRoleArn: spec.jobRoleArn,
        resourceRequirements: [
          { type: 'VCPU', value: String(spec.vcpus ?? 1) },
          { type: 'MEMORY', value: String(spec.memory ?? 2048) },
        ],
      },
    }),
  );
  return {
    jobDefinitionArn: out.jobDefinitionArn ?? '',
    jobDefinitionName: out.jobDefinitionName ?? spec.name,
    revision: out.revision ?? 1,
  };
}
