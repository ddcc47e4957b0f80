// Where the template sends arm64 jobs, for every ComputeType with and without the queue parameters: the conditions
// are evaluated as CloudFormation would, and JOB_QUEUE_ARM64, the arm64 compute environment and queue, and the
// JobQueueArm64 output follow from them.
// Gap: only the condition functions the template's Conditions use are evaluated here; test/e2e deploys on FARGATE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTemplate, resource } from '../support/cfn-yaml.js';

const template = loadTemplate();
const conditions = template.Conditions as Record<string, unknown>;

/** The template's conditions for `parameters` (the others at their defaults). */
function evaluate(parameters: Record<string, string>): (name: string) => boolean {
  const param = (name: string) => parameters[name] ?? String(template.Parameters?.[name]?.Default ?? '');
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return param(o.Ref);
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, list] = o['Fn::Join'] as [string, unknown];
      const items =
        typeof list === 'object' && list && 'Ref' in list
          ? param((list as { Ref: string }).Ref).split(',')
          : (list as unknown[]).map(value);
      return items.join(sep);
    }
    if (Array.isArray(o['Fn::Select']) || Array.isArray(o['Fn::Split'])) return JSON.stringify(v); // only the image-repository conditions use them; no arm64 decision does
    return cond(v);
  };
  const cond = (v: unknown): boolean => {
    const o = v as Record<string, unknown>;
    if (typeof o.Condition === 'string') return byName(o.Condition);
    if (Array.isArray(o['Fn::Equals'])) {
      const [a, b] = (o['Fn::Equals'] as unknown[]).map(value);
      return a === b;
    }
    if (Array.isArray(o['Fn::Not'])) return !cond((o['Fn::Not'] as unknown[])[0]);
    if (Array.isArray(o['Fn::And'])) return (o['Fn::And'] as unknown[]).every(cond);
    if (Array.isArray(o['Fn::Or'])) return (o['Fn::Or'] as unknown[]).some(cond);
    throw new Error(`cannot evaluate ${JSON.stringify(v)}`);
  };
  const byName = (name: string) => {
    assert.ok(name in conditions, `no condition ${name}`);
    return cond(conditions[name]);
  };
  return byName;
}

/** What `!If` picks among the queue expressions, as a name: JobQueue, JobQueueArn, JobQueueArm64, … or "". */
function pick(v: unknown, is: (name: string) => boolean): string {
  const o = v as Record<string, unknown>;
  if (typeof v === 'string') return v;
  if (typeof o.Ref === 'string') return o.Ref;
  const [c, yes, no] = o['Fn::If'] as [string, unknown, unknown];
  return pick(is(c) ? yes : no, is);
}

function env(): Record<string, unknown> {
  const environment = resource(template, 'Dispatcher').Properties?.Environment as
    | { Variables: Record<string, unknown> }
    | undefined;
  assert.ok(environment, 'the dispatcher has an Environment');
  return environment.Variables;
}
const GIVEN = 'arn:aws:batch:us-west-2:123456789012:job-queue/given';

const CASES: [string, Record<string, string>, string, boolean][] = [
  // name, parameters, the arm64 queue, whether the stack makes an arm64 compute environment and queue
  ['FARGATE: the one queue takes both architectures', { ComputeType: 'FARGATE' }, 'JobQueue', false],
  [
    'FARGATE_SPOT: Fargate Spot has no ARM64, so an on-demand Fargate queue',
    { ComputeType: 'FARGATE_SPOT' },
    'JobQueueArm64',
    true,
  ],
  ['EC2: a queue of Graviton instances', { ComputeType: 'EC2' }, 'JobQueueArm64', true],
  ['SPOT: a queue of Graviton Spot instances', { ComputeType: 'SPOT' }, 'JobQueueArm64', true],
  [
    'FARGATE with JobQueueArn: that queue',
    { ComputeType: 'FARGATE', JobQueueArn: GIVEN },
    'JobQueueArn',
    false,
  ],
  ['EC2 with JobQueueArn alone: no arm64 queue', { ComputeType: 'EC2', JobQueueArn: GIVEN }, '', false],
  [
    'EC2 with JobQueueArm64Arn: that one, nothing made',
    { ComputeType: 'EC2', JobQueueArm64Arn: GIVEN },
    'JobQueueArm64Arn',
    false,
  ],
  [
    'FARGATE with JobQueueArm64Arn: that one',
    { ComputeType: 'FARGATE', JobQueueArn: GIVEN, JobQueueArm64Arn: GIVEN },
    'JobQueueArm64Arn',
    false,
  ],
];

for (const [name, parameters, queue, made] of CASES) {
  test(`arm64 jobs, ${name}`, () => {
    const is = evaluate(parameters);
    assert.equal(pick(env().JOB_QUEUE_ARM64, is), queue);
    assert.equal(is('CreateArm64Queue'), made);
    for (const id of ['ComputeEnvironmentArm64', 'JobQueueArm64'])
      assert.equal(resource(template, id).Condition, 'CreateArm64Queue', id);
    const output = template.Outputs?.JobQueueArm64 as { Condition: string; Value: unknown };
    assert.equal(
      is(output.Condition),
      queue !== '',
      'the output is there exactly when there is an arm64 queue',
    );
    if (queue !== '') assert.equal(pick(output.Value, is), queue);
  });
}

test('the arm64 compute environment: on-demand Fargate for FARGATE_SPOT, Graviton instance families for EC2 and SPOT', () => {
  const ce = resource(template, 'ComputeEnvironmentArm64').Properties?.ComputeResources as Record<
    string,
    unknown
  >;
  assert.deepEqual(ce.Type, { 'Fn::If': ['IsFargate', 'FARGATE', { Ref: 'ComputeType' }] });
  const types = (ce.InstanceTypes as { 'Fn::If': [string, unknown, string[]] })['Fn::If'][2];
  assert.ok(types.length > 0 && types.every((t) => /^[a-z]+\dg$/.test(t)), `Graviton families: ${types}`);
  const queue = resource(template, 'JobQueueArm64').Properties?.ComputeEnvironmentOrder as unknown[];
  assert.deepEqual(queue, [{ Order: 1, ComputeEnvironment: { Ref: 'ComputeEnvironmentArm64' } }]);
});
