// The front's Batch gap for multi-container jobs: moto 5.2.1's Batch refuses `ecsProperties` job definitions
// ("containerProperties or eksProperties must be provided") and knows no ecsPropertiesOverride. Filled here, and
// nothing more:
// - RegisterJobDefinition with ecsProperties: the front checks what Batch's API reference says it refuses (no
//   essential container, container names not unique, a dependsOn naming no container or an unknown condition,
//   COMPLETE/SUCCESS on an essential container, Fargate without an execution role), then registers a stand-in
//   revision of the same name in moto (containerProperties from the essential container), so revisions, ACTIVE
//   status and lookups by name stay moto's own, and keeps the ecsProperties under the ARN moto gave.
// - DescribeJobDefinitions: those revisions are answered with their ecsProperties instead of the stand-in.
// - SubmitJob: refused as Batch refuses a mismatch (containerOverrides for an ecsProperties definition,
//   ecsPropertiesOverride for a container one, an override naming no container of the definition); moto takes the
//   job and ignores ecsPropertiesOverride, which the front's log keeps (batch-exec.ts reads it from there).
// - DescribeJobs: a job of such a definition carries its ecsProperties (the definition's containers) instead of
//   the stand-in's `container`.

export interface EcsContainer {
  name?: string;
  image?: string;
  command?: string[];
  essential?: boolean;
  environment?: { name?: string; value?: string }[];
  dependsOn?: { containerName?: string; condition?: string }[];
  resourceRequirements?: { type?: string; value?: string }[];
  logConfiguration?: { logDriver?: string; options?: Record<string, string> };
}

export interface EcsProperties {
  taskProperties?: {
    containers?: EcsContainer[];
    executionRoleArn?: string;
    taskRoleArn?: string;
    [k: string]: unknown;
  }[];
}

type Json = Record<string, unknown>;

const CONDITIONS = new Set(['START', 'COMPLETE', 'SUCCESS']);

/** What the front does with one Batch request before moto sees it. */
export type EcsBefore = { refuse: string } | { forward: Buffer } | undefined;

function containersOf(ecs: EcsProperties): EcsContainer[] {
  return ecs.taskProperties?.[0]?.containers ?? [];
}

/** Batch's refusals of an ecsProperties definition (its API reference's rules), or undefined when it is fine. */
export function ecsDefinitionProblem(
  ecs: EcsProperties,
  platforms: string[] | undefined,
): string | undefined {
  const tasks = ecs.taskProperties ?? [];
  if (tasks.length !== 1) return 'ecsProperties.taskProperties must hold exactly one task';
  const containers = containersOf(ecs);
  if (containers.length === 0 || containers.length > 10) return 'a task holds 1 to 10 containers';
  const names = containers.map((c) => c.name ?? '');
  if (names.some((n) => n === '') && containers.length > 1)
    return 'every container of a multi-container job needs a name';
  if (new Set(names).size !== names.length) return `container names must be unique: ${names.join(', ')}`;
  if (containers.some((c) => !c.image)) return 'every container needs an image';
  const essential = (c: EcsContainer) => c.essential !== false;
  if (!containers.some(essential)) return 'All jobs must have at least one essential container';
  for (const c of containers)
    for (const d of c.dependsOn ?? []) {
      const target = containers.find((x) => x.name === d.containerName);
      if (!target) return `container ${c.name} depends on ${d.containerName}, which is not in the task`;
      if (!CONDITIONS.has(d.condition ?? ''))
        return `dependsOn condition ${d.condition} is not START, COMPLETE or SUCCESS`;
      if (d.condition !== 'START' && essential(target))
        return `the ${d.condition} condition can't be set on an essential container (${target.name})`;
    }
  if (platforms?.includes('FARGATE') && !tasks[0]?.executionRoleArn)
    return 'jobs that run on Fargate resources must provide an execution role';
  return undefined;
}

const sum = (containers: EcsContainer[], type: string) =>
  containers.reduce(
    (n, c) => n + Number(c.resourceRequirements?.find((r) => r.type === type)?.value ?? 0),
    0,
  );

/** The ecsProperties definitions registered through the front, by ARN (with revision). */
export class EcsDefinitions {
  private byArn = new Map<string, EcsProperties>();
  private pending = new WeakMap<Json, EcsProperties>();

  get(arn: string): EcsProperties | undefined {
    return this.byArn.get(arn);
  }

  /** The ARN a SubmitJob's jobDefinition means, when it is one of ours (ARN, or name:revision). */
  private resolve(ref: string): string | undefined {
    if (this.byArn.has(ref)) return ref;
    for (const arn of this.byArn.keys()) if (arn.endsWith(`/${ref}`)) return arn;
    return undefined;
  }

  before(operation: string, body: Json | undefined): EcsBefore {
    if (!body) return undefined;
    if (operation === 'RegisterJobDefinition' && body.ecsProperties) {
      const ecs = body.ecsProperties as EcsProperties;
      const problem = ecsDefinitionProblem(ecs, body.platformCapabilities as string[] | undefined);
      if (problem) return { refuse: problem };
      const containers = containersOf(ecs);
      const main = containers.find((c) => c.essential !== false) ?? containers[0]!;
      const { ecsProperties: _, ...rest } = body;
      const standIn: Json = {
        ...rest,
        containerProperties: {
          image: main.image,
          command: main.command ?? [],
          resourceRequirements: [
            { type: 'VCPU', value: String(sum(containers, 'VCPU') || 1) },
            { type: 'MEMORY', value: String(sum(containers, 'MEMORY') || 2048) },
          ],
        },
      };
      this.pending.set(body, ecs);
      return { forward: Buffer.from(JSON.stringify(standIn)) };
    }
    if (operation === 'SubmitJob') {
      const arn = this.resolve(String(body.jobDefinition ?? ''));
      const override = body.ecsPropertiesOverride as EcsProperties | undefined;
      if (arn) {
        if (body.containerOverrides)
          return { refuse: 'containerOverrides do not apply to a job definition with ecsProperties' };
        const names = new Set(containersOf(this.byArn.get(arn)!).map((c) => c.name));
        for (const c of containersOf(override ?? {}))
          if (!names.has(c.name))
            return {
              refuse: `ecsPropertiesOverride names container ${c.name}, which the job definition has not`,
            };
      } else if (override)
        return { refuse: 'ecsPropertiesOverride applies only to a job definition with ecsProperties' };
    }
    return undefined;
  }

  /** The answer as Batch would give it, from moto's answer to what `before` forwarded. */
  after(operation: string, request: Json | undefined, answer: Buffer, status: number): Buffer {
    if (status >= 300) return answer;
    let parsed: Json;
    try {
      parsed = JSON.parse(answer.toString('utf8')) as Json;
    } catch {
      return answer;
    }
    if (operation === 'RegisterJobDefinition' && request) {
      const ecs = this.pending.get(request);
      if (ecs && typeof parsed.jobDefinitionArn === 'string') this.byArn.set(parsed.jobDefinitionArn, ecs);
      return answer;
    }
    if (operation === 'DescribeJobDefinitions') {
      for (const d of (parsed.jobDefinitions as Json[] | undefined) ?? []) {
        const ecs = this.byArn.get(String(d.jobDefinitionArn));
        if (!ecs) continue;
        delete d.containerProperties;
        d.ecsProperties = ecs;
      }
      return Buffer.from(JSON.stringify(parsed));
    }
    if (operation === 'DescribeJobs') {
      for (const j of (parsed.jobs as Json[] | undefined) ?? []) {
        const ecs = this.byArn.get(String(j.jobDefinition));
        if (!ecs) continue;
        delete j.container;
        j.ecsProperties = {
          taskProperties: [{ containers: containersOf(ecs).map((c) => ({ name: c.name, image: c.image })) }],
        };
      }
      return Buffer.from(JSON.stringify(parsed));
    }
    return answer;
  }
}
