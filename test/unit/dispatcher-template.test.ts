// template.yaml's parts that belong to the dispatcher: its role, the job role's trust, the payload prefix rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readConfig } from '../../functions/dispatcher/config.js';
import { actionsOf, type CfnTemplate, loadTemplate, resource, type Statement } from '../support/cfn-yaml.js';

const template: CfnTemplate = loadTemplate();

function dispatcherStatements(): Statement[] {
  const policies = resource(template, 'Dispatcher').Properties?.Policies as { Statement: Statement[] }[];
  return policies.flatMap((p) => p.Statement);
}

test('the dispatcher reads function configuration and tags, never GetFunction (which hands out code URLs)', () => {
  const lambda = dispatcherStatements()
    .flatMap(actionsOf)
    .filter((a) => a.startsWith('lambda:'));
  assert.deepEqual(lambda.sort(), ['lambda:GetFunctionConfiguration', 'lambda:ListTags']);
  const read = dispatcherStatements().find((s) => actionsOf(s).includes('lambda:ListTags'));
  assert.match(JSON.stringify(read?.Resource), /HasAllowedFunctions/);
});

test('only ECS tasks of this account may assume the job role (aws:SourceAccount)', () => {
  const trust = resource(template, 'JobRole').Properties?.AssumeRolePolicyDocument as {
    Statement: Statement[];
  };
  assert.equal(trust.Statement.length, 1);
  const [s] = trust.Statement;
  assert.deepEqual(s!.Principal, { Service: 'ecs-tasks.amazonaws.com' });
  assert.deepEqual(s!.Condition, { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
});

test('PayloadPrefix refuses * (it would widen every S3 permission) and accepts ordinary prefixes', () => {
  const pattern = new RegExp(template.Parameters?.PayloadPrefix?.AllowedPattern as string);
  for (const ok of ['batch/', 'cirrus/batch/', "a_b.c-d!'()/"]) assert.ok(pattern.test(ok), ok);
  for (const bad of ['*/', 'batch*/', 'batch/*/', 'batch', '/batch/', 'a//b/'])
    assert.ok(!pattern.test(bad), bad);
});

test('the dispatcher refuses a PAYLOAD_PREFIX with * too (a hand-made deployment gets the same rule)', () => {
  const env = { JOB_DEFINITION_LAMBDA: 'd', JOB_DEFINITION_GEOLAMBDA: 'g' };
  assert.throws(() => readConfig({ ...env, PAYLOAD_PREFIX: 'batch*/' }), {
    name: 'ConfigError',
    message: /PAYLOAD_PREFIX must not contain \*/,
  });
  assert.equal(readConfig({ ...env, PAYLOAD_PREFIX: 'cirrus/' }).payloadPrefix, 'cirrus/');
});

test('the dispatcher reads back only its idempotency records, and may submit to the definitions under its flavours', () => {
  const get = dispatcherStatements().find((s) => actionsOf(s).includes('s3:GetObject'));
  assert.deepEqual(actionsOf(get!), ['s3:GetObject']);
  assert.match(JSON.stringify(get!.Resource), /\$\{Bucket\}\/\$\{PayloadPrefix\}\*\.dispatch\.json/);
  const submit = dispatcherStatements().find((s) => actionsOf(s).includes('batch:SubmitJob'));
  assert.ok(submit, 'a SubmitJob statement');
  const definitions = (submit.Resource as unknown[])
    .map((r) => (r as { 'Fn::Sub'?: string })['Fn::Sub'])
    .filter((r): r is string => r?.includes(':job-definition/') ?? false)
    .map((r) => r.replace(/^.*:job-definition\//, ''));
  // Per flavour: its python3.12 definition (any revision) and the names under it (other runtimes, the arm64 ones);
  // about 90 ARNs, one per definition and revision pattern, would not fit IAM's 10,240 characters of a role's inline
  // policies. Never a wildcard over the whole stack, which would take in the image functions' <stack>-fn-* ones.
  assert.deepEqual(definitions.sort(), [
    `\${AWS::StackName}-geolambda`,
    `\${AWS::StackName}-geolambda-*`,
    `\${AWS::StackName}-geolambda:*`,
    `\${AWS::StackName}-lambda`,
    `\${AWS::StackName}-lambda-*`,
    `\${AWS::StackName}-lambda:*`,
  ]);
});
