// Lambda refuses a function whose environment variables take more than 4 KB, so the dispatcher's, with a job definition
// per image and architecture, must stay well under it. This resolves the template's Environment of the dispatcher the
// way CloudFormation would for a stack that makes everything (bucket, both queues), in the region with the longest
// name and with the images in ECR there, and measures it as JSON, which counts more than the variables' own bytes.
// Gap: only the intrinsics that Environment uses are resolved here; test/e2e checks the one moto's CloudFormation deploys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTemplate, resource } from '../support/cfn-yaml.js';

const LAMBDA_ENV_LIMIT = 4096;
const ACCOUNT = '123456789012';
const REGION = 'ap-southeast-2';
const template = loadTemplate();
const dispatcher = resource(template, 'Dispatcher').Properties ?? {};
const variables = (dispatcher.Environment as { Variables: Record<string, unknown> }).Variables;

/** A stack with its own bucket and both queues (ComputeType EC2), images in ECR, and no allow-lists. */
const CONDITIONS: Record<string, boolean> = {
  CreateQueue: true,
  CreateBucket: true,
  HasJobQueueArm64: false,
  CreateArm64Queue: true,
  Arm64SharesQueue: false,
  IsFargate: false,
};

function refOf(id: string, stack: string): string {
  const pseudo: Record<string, string> = {
    'AWS::StackName': stack,
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
  };
  if (pseudo[id] !== undefined) return pseudo[id];
  const r = template.Resources[id];
  // CloudFormation names what it makes <stack>-<LogicalId>-<13 characters>, bucket names cut at 63.
  const made = `${stack}-${id}-ABCDEFGHIJKLM`;
  if (r?.Type === 'AWS::Batch::JobQueue') return `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${made}`;
  if (r?.Type === 'AWS::Batch::JobDefinition') {
    const name = (r.Properties as { JobDefinitionName: { 'Fn::Sub': string } }).JobDefinitionName['Fn::Sub'];
    return `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/${name.replace(/^\$\{AWS::StackName\}/, stack)}:1`;
  }
  if (r?.Type === 'AWS::S3::Bucket') return made.toLowerCase().slice(0, 63);
  const p = template.Parameters?.[id];
  assert.ok(p, `${id} is neither a resource nor a parameter`);
  if (id.endsWith('ImageRepository')) return `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${p.Default}`;
  return String(p.Default ?? '');
}

function resolve(v: unknown, stack: string): string | string[] {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map((x) => resolve(x, stack) as string);
  const o = v as Record<string, unknown>;
  if (typeof o.Ref === 'string') return refOf(o.Ref, stack);
  if (typeof o['Fn::Sub'] === 'string')
    return o['Fn::Sub'].replace(/\$\{([\w:]+)\}/g, (_, k: string) => refOf(k, stack));
  if (Array.isArray(o['Fn::If'])) {
    const [condition, yes, no] = o['Fn::If'] as [string, unknown, unknown];
    assert.ok(condition in CONDITIONS, `no value for the condition ${condition}`);
    return resolve(CONDITIONS[condition] ? yes : no, stack);
  }
  if (Array.isArray(o['Fn::GetAtt'])) {
    const [id] = o['Fn::GetAtt'] as [string];
    return `arn:aws:iam::${ACCOUNT}:role/${`${stack}-${id}-ABCDEFGHIJKLM`.slice(0, 64)}`;
  }
  if (Array.isArray(o['Fn::Join'])) {
    const [sep, list] = o['Fn::Join'] as [string, unknown];
    return ([] as string[]).concat(resolve(list, stack)).join(sep);
  }
  throw new Error(`cannot resolve ${JSON.stringify(v)}`);
}

/** The dispatcher's environment as JSON for a stack named `stack`, in bytes. */
function environmentBytes(stack: string): number {
  const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v, stack)]));
  return Buffer.byteLength(JSON.stringify(env));
}

test("the dispatcher's environment stays under Lambda's 4 KB for stack names of up to 64 characters", (t) => {
  const sizes = [15, 32, 64].map((n) => ({ n, bytes: environmentBytes('s'.repeat(n)) }));
  for (const { n, bytes } of sizes) t.diagnostic(`stack name of ${n} characters: ${bytes} bytes`);
  // Each character more of the stack name adds one byte per value that holds it.
  const perCharacter = (sizes[2]!.bytes - sizes[1]!.bytes) / 32;
  t.diagnostic(
    `the longest stack name that fits: ${Math.floor(64 + (LAMBDA_ENV_LIMIT - sizes[2]!.bytes) / perCharacter)} characters`,
  );
  assert.ok(sizes[2]!.bytes < LAMBDA_ENV_LIMIT, `${sizes[2]!.bytes} bytes`);
});

test('the measure counts every variable the template sets', () => {
  const env = Object.keys(variables);
  for (const name of [
    'JOB_DEFINITION_RUNTIMES',
    'JOB_DEFINITION_PREFIX',
    'JOB_QUEUE_ARM64',
    'RUNNER_IMAGE_ARM64',
  ])
    assert.ok(env.includes(name), name);
  assert.ok(environmentBytes('s'.repeat(64)) > environmentBytes('s'.repeat(15)));
});

test('the template writes no map of definition names: the dispatcher derives them all from the prefix', () => {
  assert.equal(variables.JOB_DEFINITIONS, undefined);
  // 2.1 KB with a 64-character stack name; the map of names it replaces took that to 3.8 KB.
  const bytes = environmentBytes('s'.repeat(64));
  assert.ok(bytes < 2560, `${bytes} bytes`);
});
