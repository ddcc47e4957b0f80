// A job's definition, where the job itself does not say: each container's image, resources and log configuration,
// and the task's CPU architecture.
import type { BatchClient, JobDefinition, LogConfiguration } from '@aws-sdk/client-batch';
import { aws } from './errors.js';
import { DEFAULT_CONTAINER, type Resources, resourcesOf } from './job.js';

export interface DefinitionView {
  /** the definition's name (no revision) */
  name: string;
  containers: { name: string; image?: string; resources: Resources; logConfiguration?: LogConfiguration }[];
  architecture?: string;
  platforms: string[];
}

export function definitionView(d: JobDefinition): DefinitionView {
  const tasks = d.ecsProperties?.taskProperties ?? [];
  const c = d.containerProperties;
  const containers =
    tasks.length > 0
      ? tasks
          .flatMap((t) => t.containers ?? [])
          .map((x) => ({
            name: x.name ?? '',
            ...(x.image ? { image: x.image } : {}),
            resources: resourcesOf(x.resourceRequirements),
            ...(x.logConfiguration ? { logConfiguration: x.logConfiguration } : {}),
          }))
      : c
        ? [
            {
              name: DEFAULT_CONTAINER,
              ...(c.image ? { image: c.image } : {}),
              resources: resourcesOf(c.resourceRequirements, c),
              ...(c.logConfiguration ? { logConfiguration: c.logConfiguration } : {}),
            },
          ]
        : [];
  const arch = c?.runtimePlatform?.cpuArchitecture ?? tasks[0]?.runtimePlatform?.cpuArchitecture;
  return {
    name: d.jobDefinitionName ?? '',
    containers,
    ...(arch ? { architecture: arch } : {}),
    platforms: [...(d.platformCapabilities ?? [])],
  };
}

/** The definition a job ran (its ARN with revision); undefined when Batch no longer has it. */
export async function describeDefinition(
  batch: BatchClient,
  arn: string,
): Promise<DefinitionView | undefined> {
  const { DescribeJobDefinitionsCommand } = await import('@aws-sdk/client-batch');
  const out = await aws(`describe job definition ${arn}`, () =>
    batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: [arn] })),
  );
  const d = out.jobDefinitions?.[0];
  return d ? definitionView(d) : undefined;
}

/** The definition's name from its ARN (`…:job-definition/<name>:<revision>`) or `<name>:<revision>`. */
export function definitionName(ref: string): string {
  return (ref.split('/').at(-1) ?? ref).replace(/:\d+$/, '');
}
