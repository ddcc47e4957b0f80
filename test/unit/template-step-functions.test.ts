// template.yaml's post-batch function and its optional state machine: built like the dispatcher, least-privilege roles,
// the definition file with exactly the substitutions it uses, and the parameter that turns the state machine on.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DEFAULT_MAX_INLINE_RESULT,
  MAX_INLINE_RESULT_CAP,
  readConfig,
} from '../../functions/post-batch/config.js';
import { POST_BATCH_BUNDLE } from '../integration/post-batch-world.js';
import { actionsOf, jobDefinitions, loadTemplate, resource, type Statement } from '../support/cfn-yaml.js';

const root = new URL('../../', import.meta.url);
const template = loadTemplate();

/** The statements of SAM `Policies` documents; a statement behind `!If [cond, s, AWS::NoValue]` as `s`. */
function statementsOf(policies: unknown): Statement[] {
  const docs = (policies as { PolicyDocument?: { Statement: unknown[] }; Statement?: unknown[] }[]).map(
    (p) => p.PolicyDocument?.Statement ?? p.Statement ?? [],
  );
  return docs.flat().map((s) => {
    const iff = (s as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
    return iff ? { ...iff[1], Sid: `${iff[1].Sid} (if ${iff[0]})` } : (s as Statement);
  });
}
const bySid = (statements: Statement[], sid: string) => {
  const s = statements.find((x) => x.Sid === sid);
  assert.ok(s, `no statement ${sid} (has ${statements.map((x) => x.Sid).join(', ')})`);
  return s;
};

const postBatch = () => resource(template, 'PostBatch', 'AWS::Serverless::Function');
const postBatchStatements = () => statementsOf(postBatch().Properties?.Policies);
const stateMachine = () => resource(template, 'LambdaAsBatchStateMachine', 'AWS::Serverless::StateMachine');
const stateMachineStatements = () =>
  statementsOf(resource(template, 'StateMachineRole', 'AWS::IAM::Role').Properties?.Policies);

test('post-batch runs as the dispatcher does: nodejs24.x, arm64, from its dist/ folder with no SAM build step', () => {
  const pb = postBatch();
  const d = resource(template, 'Dispatcher').Properties ?? {};
  const p = pb.Properties ?? {};
  assert.equal(p.Runtime, 'nodejs24.x');
  assert.equal(p.Runtime, d.Runtime);
  assert.deepEqual(p.Architectures, ['arm64']);
  assert.deepEqual(p.Architectures, d.Architectures);
  assert.equal(p.Handler, 'index.handler');
  assert.equal(p.CodeUri, 'dist/post-batch');
  // A BuildMethod would have `sam build` make another bundle than the one the tests run.
  assert.equal(pb.Metadata, undefined);
  assert.deepEqual([p.MemorySize, p.Timeout], [256, 60]);
});

test('what the template deploys as post-batch is the bundle the post-batch tests load, alone in its folder', () => {
  const p = postBatch().Properties ?? {};
  const [module, exported] = String(p.Handler).split('.');
  const deployed = join(new URL(String(p.CodeUri), root).pathname, `${module}.mjs`);
  assert.equal(realpathSync(deployed), realpathSync(POST_BATCH_BUNDLE));
  assert.equal(exported, 'handler');
  assert.deepEqual(readdirSync(new URL(String(p.CodeUri), root)).sort(), ['index.mjs', 'index.mjs.map']);
  assert.match(readFileSync(deployed, 'utf8'), /export\s*\{[^}]*\bhandler\b/);
});

test("post-batch's environment is a configuration it accepts; MaxInlineResult has post-batch's default and cap", () => {
  const env = postBatch().Properties?.Environment as { Variables: Record<string, unknown> } | undefined;
  const vars = env?.Variables ?? {};
  assert.deepEqual(Object.keys(vars).sort(), [
    'LOG_LEVEL',
    'MAX_INLINE_RESULT',
    'NODE_OPTIONS',
    'OUTPUT_BUCKET_ARNS',
    'PAYLOAD_BUCKET',
    'PAYLOAD_PREFIX',
  ]);
  assert.deepEqual(vars.MAX_INLINE_RESULT, { Ref: 'MaxInlineResult' });
  assert.deepEqual(vars.LOG_LEVEL, { Ref: 'LogLevel' });
  // The places its role reads are the places it accepts a url_out in (post-batch-hostile.test.ts refuses the rest).
  assert.deepEqual(vars.PAYLOAD_BUCKET, {
    'Fn::If': ['CreateBucket', { Ref: 'PayloadBucket' }, { Ref: 'PayloadBucketName' }],
  });
  assert.deepEqual(vars.PAYLOAD_PREFIX, { Ref: 'PayloadPrefix' });
  assert.deepEqual(vars.OUTPUT_BUCKET_ARNS, { 'Fn::Join': [',', { Ref: 'OutputBucketArns' }] });
  const outputs = readConfig({
    PAYLOAD_BUCKET: 'stack-payloads',
    PAYLOAD_PREFIX: String(template.Parameters?.PayloadPrefix?.Default),
    OUTPUT_BUCKET_ARNS: 'arn:aws:s3:::cirrus-data,arn:aws:s3:::cirrus-*-archive',
  }).outputs;
  assert.deepEqual(outputs?.payload, { bucket: 'stack-payloads', prefix: 'batch/' });
  assert.equal(
    readConfig({ OUTPUT_BUCKET_ARNS: '' }).outputs,
    undefined,
    'OutputBucketArns empty and no bucket',
  );
  assert.throws(() => readConfig({ OUTPUT_BUCKET_ARNS: 'cirrus-data' }), {
    name: 'ConfigError',
    message: /^OUTPUT_BUCKET_ARNS: "cirrus-data" is not a bucket ARN/,
  });
  const param = template.Parameters?.MaxInlineResult;
  assert.equal(param?.Default, DEFAULT_MAX_INLINE_RESULT);
  assert.equal(param?.MaxValue, MAX_INLINE_RESULT_CAP);
  assert.equal(param?.MinValue, 0);
  const config = readConfig({ MAX_INLINE_RESULT: String(param?.MaxValue), LOG_LEVEL: 'info' });
  assert.equal(config.maxInlineResult, MAX_INLINE_RESULT_CAP);
  assert.throws(() => readConfig({ MAX_INLINE_RESULT: String(Number(param?.MaxValue) + 1) }), {
    name: 'ConfigError',
  });
});

test("post-batch's role: GetObject under the payload prefix, ListBucket only for that prefix, DescribeJobs; other buckets only when given", () => {
  const statements = postBatchStatements();
  assert.ok(statements.every((s) => s.Effect === 'Allow' && !actionsOf(s).some((a) => a.includes('*'))));
  const actions = [...new Set(statements.flatMap(actionsOf))].sort();
  assert.deepEqual(actions, ['batch:DescribeJobs', 's3:GetObject', 's3:ListBucket']);

  const get = bySid(statements, 'ReadResultsAndRecords');
  assert.deepEqual(actionsOf(get), ['s3:GetObject']);
  assert.match(JSON.stringify(get.Resource), /\$\{Bucket\}\/\$\{PayloadPrefix\}\*/);
  const listing = bySid(statements, 'ListPayloadPrefix');
  assert.deepEqual(actionsOf(listing), ['s3:ListBucket']);
  assert.deepEqual(listing.Condition?.StringLike?.['s3:prefix'], { 'Fn::Sub': `\${PayloadPrefix}*` });
  assert.deepEqual(bySid(statements, 'DescribeJobs').Resource, '*');

  const other = bySid(statements, 'ReadOtherOutputs (if HasOutputBuckets)');
  assert.deepEqual(actionsOf(other).sort(), ['s3:GetObject', 's3:ListBucket']);
  assert.match(JSON.stringify(other.Resource), /OutputBucketArns/);
  assert.equal(template.Parameters?.OutputBucketArns?.Default, '');
  // Only DescribeJobs is unscoped: Batch takes no resource-level permissions for it.
  for (const s of statements.filter((x) => JSON.stringify(x.Resource) === '"*"'))
    assert.deepEqual(actionsOf(s), ['batch:DescribeJobs']);
});

test('the state machine and its role exist only with StateMachine=true, off by default, and so does the StateMachineArn output', () => {
  const param = template.Parameters?.StateMachine;
  assert.equal(param?.Default, 'false');
  assert.deepEqual(param?.AllowedValues, ['true', 'false']);
  assert.deepEqual(template.Conditions?.CreateStateMachine, {
    'Fn::Equals': [{ Ref: 'StateMachine' }, 'true'],
  });
  assert.equal(stateMachine().Condition, 'CreateStateMachine');
  assert.equal(resource(template, 'StateMachineRole').Condition, 'CreateStateMachine');
  assert.equal(template.Outputs?.StateMachineArn?.Condition, 'CreateStateMachine');
  assert.deepEqual(template.Outputs?.StateMachineArn?.Value, { Ref: 'LambdaAsBatchStateMachine' });
  // post-batch is always there: a Cirrus workflow of its own uses it without this state machine.
  assert.equal(postBatch().Condition, undefined);
  assert.deepEqual(template.Outputs?.PostBatchArn?.Value, { 'Fn::GetAtt': ['PostBatch', 'Arn'] });
  assert.deepEqual(template.Outputs?.PostBatchName?.Value, { Ref: 'PostBatch' });
});

test("the state machine is the definition file, Standard, with exactly the substitutions the file uses, each a function of this template's", () => {
  const p = stateMachine().Properties ?? {};
  assert.equal(p.Type, 'STANDARD', 'Express workflows do not support .sync');
  assert.equal(p.DefinitionUri, 'statemachine/lambda-as-batch.asl.json');
  const text = readFileSync(new URL(String(p.DefinitionUri), root), 'utf8');
  const used = [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
  const subs = p.DefinitionSubstitutions as Record<string, unknown>;
  assert.deepEqual(Object.keys(subs).sort(), used);
  for (const [key, value] of Object.entries(subs)) {
    const [id, attr] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    assert.equal(attr, 'Arn', key);
    assert.equal(resource(template, id).Type, 'AWS::Serverless::Function', key);
  }
  assert.deepEqual(subs, {
    DispatcherFunctionArn: { 'Fn::GetAtt': ['Dispatcher', 'Arn'] },
    PostBatchFunctionArn: { 'Fn::GetAtt': ['PostBatch', 'Arn'] },
  });
  assert.deepEqual(p.Role, { 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
});

test("the state machine's role invokes only the dispatcher and post-batch and submits only to the stack's queue and job definitions", () => {
  const statements = stateMachineStatements();
  assert.ok(statements.every((s) => s.Effect === 'Allow' && !actionsOf(s).some((a) => a.includes('*'))));
  const invoke = bySid(statements, 'InvokeDispatcherAndPostBatch');
  assert.deepEqual(actionsOf(invoke), ['lambda:InvokeFunction']);
  assert.deepEqual(invoke.Resource, [
    { 'Fn::GetAtt': ['Dispatcher', 'Arn'] },
    { 'Fn::Sub': `\${Dispatcher.Arn}:*` },
    { 'Fn::GetAtt': ['PostBatch', 'Arn'] },
    { 'Fn::Sub': `\${PostBatch.Arn}:*` },
  ]);

  const submit = bySid(statements, 'SubmitPlannedJobs');
  assert.deepEqual(actionsOf(submit), ['batch:SubmitJob']);
  const resources = submit.Resource as unknown[];
  // The stack's queues: the x86_64 one, and the arm64 one given or made (on FARGATE arm64 jobs share the first).
  assert.deepEqual(resources.slice(0, 3), [
    { 'Fn::If': ['CreateQueue', { Ref: 'JobQueue' }, { Ref: 'JobQueueArn' }] },
    { 'Fn::If': ['HasJobQueueArm64', { Ref: 'JobQueueArm64Arn' }, { Ref: 'AWS::NoValue' }] },
    { 'Fn::If': ['CreateArm64Queue', { Ref: 'JobQueueArm64' }, { Ref: 'AWS::NoValue' }] },
  ]);
  const subs = resources.slice(3).map((r) => (r as { 'Fn::Sub': string })['Fn::Sub']);
  const arn = (name: string) =>
    `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-definition/${name}`;
  // Every definition the dispatcher may plan: per flavour its python3.12 one (any revision) and those under it (the
  // other runtimes and the arm64 ones); the image functions' that it registers.
  const flavours = ['lambda', 'geolambda'].map((f) => `\${AWS::StackName}-${f}`);
  assert.deepEqual(
    subs.sort(),
    [
      ...flavours.flatMap((n) => [arn(n), `${arn(n)}:*`, `${arn(n)}-*`]),
      arn(`\${AWS::StackName}-fn-*`),
    ].sort(),
  );
  const names = Object.values(jobDefinitions(template)).map(
    (d) => (d.name as { 'Fn::Sub': string })['Fn::Sub'],
  );
  assert.ok(names.length >= 40);
  for (const n of names)
    assert.ok(
      flavours.some((f) => n === f || n.startsWith(`${f}-`)),
      n,
    );
  // The dispatcher's own SubmitJob resources are the same queues and definitions.
  const dispatcher = statementsOf(resource(template, 'Dispatcher').Properties?.Policies);
  const dispatcherSubmit = bySid(dispatcher, 'SubmitJobs').Resource as unknown[];
  for (const r of dispatcherSubmit) assert.ok(resources.some((x) => JSON.stringify(x) === JSON.stringify(r)));
});

test("the state machine's role has what batch:submitJob.sync needs: DescribeJobs, TerminateJob on this account's and region's jobs only, and Step Functions' managed rule", () => {
  const statements = stateMachineStatements();
  const watch = bySid(statements, 'WatchJobs');
  assert.deepEqual(actionsOf(watch), ['batch:DescribeJobs']);
  assert.equal(watch.Resource, '*');
  const end = bySid(statements, 'EndJobs');
  assert.deepEqual(actionsOf(end), ['batch:TerminateJob']);
  assert.deepEqual(end.Resource, {
    'Fn::Sub': `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job/*`,
  });
  for (const s of statements.filter((x) => JSON.stringify(x.Resource).includes('"*"')))
    assert.deepEqual(actionsOf(s), ['batch:DescribeJobs'], 'only DescribeJobs is unscoped');
  const events = bySid(statements, 'SyncJobEvents');
  assert.deepEqual(actionsOf(events).sort(), ['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
  assert.deepEqual(events.Resource, {
    'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/StepFunctionsGetEventsForBatchJobsRule`,
  });
  assert.deepEqual([...new Set(statements.flatMap(actionsOf))].sort(), [
    'batch:DescribeJobs',
    'batch:SubmitJob',
    'batch:TerminateJob',
    'events:DescribeRule',
    'events:PutRule',
    'events:PutTargets',
    'lambda:InvokeFunction',
  ]);
  const trust = resource(template, 'StateMachineRole').Properties?.AssumeRolePolicyDocument as {
    Statement: { Principal: unknown; Condition: unknown }[];
  };
  assert.deepEqual(trust.Statement[0]?.Principal, { Service: 'states.amazonaws.com' });
  assert.deepEqual(trust.Statement[0]?.Condition, {
    StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  });
});
