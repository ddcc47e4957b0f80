// template.yaml's permissions and payload bucket: least privilege for the job and the dispatcher, a private TLS-only bucket.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  actionsOf,
  type CfnTemplate,
  jobDefinitions,
  loadTemplate,
  resource,
  type Statement,
} from '../support/cfn-yaml.js';

const template: CfnTemplate = loadTemplate();

function inlineStatements(policies: unknown): Statement[] {
  return (policies as { PolicyDocument?: { Statement: Statement[] }; Statement?: Statement[] }[]).flatMap(
    (p) => p.PolicyDocument?.Statement ?? p.Statement ?? [],
  );
}

const prefixSub = (s: Statement) => JSON.stringify(s.Resource);

test('the job role allows only lambda:GetFunction and lambda:GetLayerVersion among Lambda actions', () => {
  const role = resource(template, 'JobRole', 'AWS::IAM::Role').Properties ?? {};
  const statements = inlineStatements(role.Policies);
  const lambda = statements.flatMap(actionsOf).filter((a) => a.startsWith('lambda:'));
  assert.deepEqual([...new Set(lambda)].sort(), ['lambda:GetFunction', 'lambda:GetLayerVersion']);
  assert.ok(statements.every((s) => s.Effect === 'Allow' && !actionsOf(s).some((a) => a.includes('*'))));
  const trust = JSON.stringify(role.AssumeRolePolicyDocument);
  assert.match(trust, /ecs-tasks\.amazonaws\.com/);
});

test('the job role reaches S3 only under the payload prefix (ListBucket only with a prefix condition)', () => {
  const statements = inlineStatements(resource(template, 'JobRole').Properties?.Policies);
  const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
  const objectActions = s3.filter((s) => !actionsOf(s).includes('s3:ListBucket'));
  assert.deepEqual(objectActions.flatMap(actionsOf).sort(), [
    's3:AbortMultipartUpload',
    's3:GetObject',
    's3:PutObject',
  ]);
  for (const s of objectActions) assert.match(prefixSub(s), /\$\{Bucket\}\/\$\{PayloadPrefix\}\*/);
  const list = s3.find((s) => actionsOf(s).includes('s3:ListBucket'));
  assert.ok(list, 'ListBucket statement');
  assert.deepEqual(list.Condition?.StringLike?.['s3:prefix'], { 'Fn::Sub': `\${PayloadPrefix}*` });
});

test('the job role fetches only the allowed functions (and their qualified versions), layers of the account by default', () => {
  const statements = inlineStatements(resource(template, 'JobRole').Properties?.Policies);
  const getFunction = statements.find((s) => actionsOf(s).includes('lambda:GetFunction'));
  assert.ok(getFunction);
  assert.match(JSON.stringify(getFunction.Resource), /HasAllowedFunctions/);
  assert.match(JSON.stringify(getFunction.Resource), /:\*,/, 'the :* (qualified) variant of each glob');
  const layers = statements.find((s) => actionsOf(s).includes('lambda:GetLayerVersion'));
  assert.ok(layers);
  assert.match(JSON.stringify(layers.Resource), /layer:\*:\*/);
  assert.match(JSON.stringify(layers.Resource), /AWS::AccountId/);
});

test('the dispatcher role has exactly what the dispatcher uses', () => {
  const statements = inlineStatements(resource(template, 'Dispatcher').Properties?.Policies);
  assert.deepEqual([...new Set(statements.flatMap(actionsOf))].sort(), [
    'batch:DescribeJobs',
    'batch:ListJobs',
    'batch:SubmitJob',
    'lambda:GetFunctionConfiguration',
    'lambda:ListTags',
    's3:DeleteObject',
    's3:GetObject',
    's3:PutObject',
  ]);
  const submit = statements.find((s) => actionsOf(s).includes('batch:SubmitJob'));
  const resources = JSON.stringify(submit?.Resource);
  assert.match(resources, /job-definition\/\$\{AWS::StackName\}-lambda:\*/);
  assert.match(resources, /job-definition\/\$\{AWS::StackName\}-geolambda:\*/);
  assert.match(resources, /JobQueue/);
  // Only the look-up of a job whose SubmitJob answer was lost is unscoped (Batch allows no resource there).
  for (const s of statements.filter((st) => JSON.stringify(st.Resource) === '"*"')) {
    assert.deepEqual(actionsOf(s).sort(), ['batch:DescribeJobs', 'batch:ListJobs']);
  }
  const s3 = statements.find((s) => actionsOf(s).includes('s3:PutObject'));
  assert.ok(s3);
  assert.match(prefixSub(s3), /\$\{Bucket\}\/\$\{PayloadPrefix\}\*/);
});

test('every job definition is named as the dispatcher role allows, with any revision, and nothing else of the stack is', () => {
  const statements = inlineStatements(resource(template, 'Dispatcher').Properties?.Policies);
  const submit = statements.find((s) => actionsOf(s).includes('batch:SubmitJob'));
  assert.ok(submit, 'a SubmitJob statement');
  const prefix = `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-definition/`;
  const patterns = (submit.Resource as unknown[])
    .map((r) => (r as { 'Fn::Sub'?: string })['Fn::Sub'])
    .filter((r): r is string => r?.startsWith(prefix) ?? false)
    .map(
      (r) =>
        new RegExp(
          `^${r
            .slice(prefix.length)
            .replace(/[$.{}]/g, '\\$&')
            .replace(/\*/g, '.*')}$`,
        ),
    );
  const allowed = (name: string) => patterns.some((p) => p.test(name));
  const defs = Object.values(jobDefinitions(template));
  assert.ok(defs.length >= 2);
  for (const def of defs) {
    const name = (def.name as { 'Fn::Sub': string })['Fn::Sub'];
    assert.match(name, /^\$\{AWS::StackName\}-[a-z0-9-]+$/);
    assert.ok(allowed(name), `SubmitJob does not allow ${name}`);
    assert.ok(allowed(`${name}:3`), `SubmitJob does not allow ${name}:<revision>`);
  }
  // The image functions' definitions (registered by the dispatcher, allowed by the image-functions policy only).
  assert.ok(!allowed(`\${AWS::StackName}-fn-f-0123456789ab:1`));
});

test('the payload bucket blocks all public access and is encrypted', () => {
  const p = resource(template, 'PayloadBucket', 'AWS::S3::Bucket').Properties ?? {};
  assert.deepEqual(p.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  });
  const enc = p.BucketEncryption as { ServerSideEncryptionConfiguration: unknown[] };
  assert.ok(enc.ServerSideEncryptionConfiguration.length > 0);
});

test('the payload bucket policy denies every request not made over TLS', () => {
  const policy = resource(template, 'PayloadBucketPolicy', 'AWS::S3::BucketPolicy').Properties ?? {};
  const statements = (policy.PolicyDocument as { Statement: Statement[] }).Statement;
  const deny = statements.find((s) => s.Effect === 'Deny');
  assert.ok(deny, 'a Deny statement');
  assert.deepEqual(deny.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
  assert.equal(deny.Principal, '*');
  assert.deepEqual(actionsOf(deny), ['s3:*']);
  const res = JSON.stringify(deny.Resource);
  assert.match(res, /PayloadBucket","Arn"/);
  assert.match(res, /\$\{PayloadBucket\.Arn\}\/\*/);
});

test('objects under the payload prefix expire after PayloadExpiryDays', () => {
  const p = resource(template, 'PayloadBucket').Properties ?? {};
  const rules = (p.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
  const rule = rules.find((r) => JSON.stringify(r.Prefix) === JSON.stringify({ Ref: 'PayloadPrefix' }));
  assert.ok(rule, 'a lifecycle rule on the payload prefix');
  assert.equal(rule.Status, 'Enabled');
  assert.deepEqual(rule.ExpirationInDays, { Ref: 'PayloadExpiryDays' });
});

test('without a queue ARN the stack creates a Fargate compute environment and queue by default', () => {
  assert.equal(template.Parameters?.ComputeType?.Default, 'FARGATE');
  assert.deepEqual(template.Parameters?.ComputeType?.AllowedValues, [
    'FARGATE',
    'FARGATE_SPOT',
    'EC2',
    'SPOT',
  ]);
  assert.equal(resource(template, 'ComputeEnvironment').Condition, 'CreateQueue');
  assert.equal(resource(template, 'JobQueue').Condition, 'CreateQueue');
  assert.deepEqual(template.Conditions?.CreateQueue, { 'Fn::Equals': [{ Ref: 'JobQueueArn' }, ''] });
});

// ---------------------------------------------------------------- container-image functions

/** A statement list with `!If [Cond, statement, AWS::NoValue]` entries: the statements and the condition of each. */
function conditional(statements: unknown[]): (Statement & { when?: string })[] {
  return statements.map((s) => {
    const fn = (s as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
    return fn ? { ...fn[1], when: fn[0] } : (s as Statement);
  });
}

test('image functions add their permissions only with FunctionImageRepositories, in a policy of their own', () => {
  assert.deepEqual(template.Parameters?.FunctionImageRepositories?.Default, '');
  assert.deepEqual(template.Conditions?.HasFunctionImages, {
    'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'FunctionImageRepositories' }] }, ''] }],
  });
  const policy = resource(template, 'DispatcherImageFunctionsPolicy', 'AWS::IAM::Policy');
  assert.equal(policy.Condition, 'HasFunctionImages');
  assert.deepEqual(policy.Properties?.Roles, [{ Ref: 'DispatcherRole' }]);
  const statements =
    (policy.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
  assert.deepEqual([...new Set(statements.flatMap(actionsOf))].sort(), [
    'batch:DescribeJobDefinitions',
    'batch:RegisterJobDefinition',
    'batch:SubmitJob',
    'iam:PassRole',
    'lambda:GetFunction',
    's3:GetObject',
  ]);
  assert.ok(statements.every((s) => s.Effect === 'Allow' && !actionsOf(s).some((a) => a.includes('*'))));
  const by = (action: string) => statements.filter((s) => actionsOf(s).includes(action));
  // Register and submit only the stack's own image-function definitions (the dispatcher's IMAGE_DEFINITION_PREFIX).
  const [register] = by('batch:RegisterJobDefinition');
  assert.deepEqual(register?.Resource, {
    'Fn::Sub': `arn:\${AWS::Partition}:batch:\${AWS::Region}:\${AWS::AccountId}:job-definition/\${AWS::StackName}-fn-*`,
  });
  const env = resource(template, 'Dispatcher').Properties?.Environment as {
    Variables: Record<string, unknown>;
  };
  assert.deepEqual(env.Variables.IMAGE_DEFINITION_PREFIX, { 'Fn::Sub': `\${AWS::StackName}-fn` });
  // Only DescribeJobDefinitions is unscoped: Batch takes no resource for it.
  for (const s of statements.filter((st) => JSON.stringify(st.Resource) === '"*"'))
    assert.deepEqual(actionsOf(s), ['batch:DescribeJobDefinitions']);
  // PassRole: exactly the two roles, only to Batch and ECS tasks.
  const [pass] = by('iam:PassRole');
  assert.deepEqual(pass?.Resource, [
    { 'Fn::GetAtt': ['JobRole', 'Arn'] },
    { 'Fn::GetAtt': ['JobExecutionRole', 'Arn'] },
  ]);
  assert.deepEqual(pass?.Condition, {
    StringEquals: { 'iam:PassedToService': ['batch.amazonaws.com', 'ecs-tasks.amazonaws.com'] },
  });
  // GetFunction on exactly the functions the dispatcher may look up.
  const read = inlineStatements(resource(template, 'Dispatcher').Properties?.Policies).find((s) =>
    actionsOf(s).includes('lambda:GetFunctionConfiguration'),
  );
  assert.deepEqual(by('lambda:GetFunction')[0]?.Resource, read?.Resource);
  const [locks] = by('s3:GetObject');
  assert.match(prefixSub(locks!), /\$\{Bucket\}\/\$\{PayloadPrefix\}\*\.jobdef\.json/);
});

test('the job role may assume function execution roles only with AssumeFunctionRole, in a policy of its own, and every job is told', () => {
  assert.equal(template.Parameters?.AssumeFunctionRole?.Default, 'false');
  assert.deepEqual(template.Conditions?.AssumesFunctionRoles, {
    'Fn::Equals': [{ Ref: 'AssumeFunctionRole' }, 'true'],
  });
  const role = resource(template, 'JobRole', 'AWS::IAM::Role').Properties ?? {};
  assert.ok(
    !inlineStatements(role.Policies)
      .flatMap(actionsOf)
      .some((a) => a.startsWith('sts:')),
  );
  const policy = resource(template, 'JobAssumeFunctionRolesPolicy', 'AWS::IAM::Policy');
  assert.equal(policy.Condition, 'AssumesFunctionRoles');
  assert.deepEqual(policy.Properties?.Roles, [{ Ref: 'JobRole' }]);
  const statements =
    (policy.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
  assert.deepEqual(statements.flatMap(actionsOf), ['sts:AssumeRole']);
  // Roles only: FunctionRoleArns, else this account's.
  assert.deepEqual(statements[0]?.Resource, {
    'Fn::If': [
      'HasFunctionRoleArns',
      { Ref: 'FunctionRoleArns' },
      { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/*` },
    ],
  });
  for (const id of Object.keys(jobDefinitions(template))) {
    const container = resource(template, id).Properties?.ContainerProperties as {
      Environment: { Name: string; Value: unknown }[];
    };
    const env = container.Environment;
    assert.deepEqual(
      env.find((e) => e.Name === 'RUN_LAMBDA_ASSUME_FUNCTION_ROLE')?.Value,
      { Ref: 'AssumeFunctionRole' },
      id,
    );
  }
});

test('the execution role pulls only from the run-lambda repositories (when in ECR) and FunctionImageRepositories, and logs only to /aws/batch/job', () => {
  const role = resource(template, 'JobExecutionRole', 'AWS::IAM::Role').Properties ?? {};
  assert.equal(
    role.ManagedPolicyArns,
    undefined,
    'no AmazonECSTaskExecutionRolePolicy (pulls from anywhere)',
  );
  assert.match(JSON.stringify(role.AssumeRolePolicyDocument), /aws:SourceAccount/);
  const [doc] = role.Policies as { PolicyDocument: { Statement: unknown[] } }[];
  const statements = conditional(doc!.PolicyDocument.Statement);
  assert.ok(statements.every((s) => s.Effect === 'Allow' && !actionsOf(s).some((a) => a.includes('*'))));
  const sid = (id: string) => statements.find((s) => s.Sid === id);
  assert.deepEqual(sid('WriteJobLogs')?.Resource, {
    'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/batch/job:*`,
  });
  assert.equal(sid('EcrLogin')?.when, 'PullsFromEcr');
  assert.deepEqual(actionsOf(sid('EcrLogin')!), ['ecr:GetAuthorizationToken']);
  assert.equal(sid('PullFunctionImages')?.when, 'HasFunctionImages');
  assert.deepEqual(sid('PullFunctionImages')?.Resource, { Ref: 'FunctionImageRepositories' });
  assert.equal(sid('PullRunnerImages')?.when, 'RunnerImagesInEcr');
  const runner = JSON.stringify(sid('PullRunnerImages')?.Resource);
  assert.match(runner, /LambdaImagesInEcr.*LambdaImageRepository/);
  assert.match(runner, /GeoLambdaImagesInEcr.*GeoLambdaImageRepository/);
  // The only unscoped one is the registry token (ECR takes no resource for it).
  for (const s of statements.filter((st) => JSON.stringify(st.Resource) === '"*"'))
    assert.deepEqual(actionsOf(s), ['ecr:GetAuthorizationToken']);
});

test("the image functions' runner image is the run-lambda image without a language runtime, an image of the matrix", async () => {
  const env = resource(template, 'Dispatcher').Properties?.Environment as {
    Variables: Record<string, unknown>;
  };
  // The runner container of an image function's job: x86_64, or arm64 for an arm64 function's image.
  assert.deepEqual(env.Variables.RUNNER_IMAGE, {
    'Fn::Sub': `\${LambdaImageRepository}:\${ImageVersion}-provided.al2023-x86_64`,
  });
  assert.deepEqual(env.Variables.RUNNER_IMAGE_ARM64, {
    'Fn::Sub': `\${LambdaImageRepository}:\${ImageVersion}-provided.al2023-arm64`,
  });
  const { readMatrix } = await import('../../images/matrix.mjs');
  assert.ok(
    readMatrix().images.some(
      (i: { flavour: string; runtime: string }) => i.flavour === 'lambda' && i.runtime === 'provided.al2023',
    ),
  );
  for (const name of ['JOB_ROLE_ARN', 'JOB_EXECUTION_ROLE_ARN', 'ALLOWED_IMAGE_REPOSITORIES', 'JOB_PLATFORM'])
    assert.ok(env.Variables[name], name);
});

/**
 * Actions the AWS service authorization reference lists with no resource type, so that a policy can only name "*"
 * for them (AWS Batch's user guide, "Supported resource-level permissions for AWS Batch API actions", names
 * neither ListJobs, DescribeJobs nor DescribeJobDefinitions; ECR's token is the registry's, not a repository's).
 */
const WITHOUT_RESOURCE_LEVEL = [
  'batch:DescribeJobDefinitions',
  'batch:DescribeJobs',
  'batch:ListJobs',
  'ecr:GetAuthorizationToken',
];

/** Every IAM statement anywhere in the template (roles, SAM policies, managed policies, behind !If too). */
function allStatements(v: unknown, out: Statement[] = []): Statement[] {
  if (Array.isArray(v)) for (const x of v) allStatements(x, out);
  else if (v && typeof v === 'object') {
    if ('Effect' in v && 'Action' in v) out.push(v as Statement);
    else for (const x of Object.values(v)) allStatements(x, out);
  }
  return out;
}

test('every Allow on Resource "*" in the template holds only actions without resource-level permissions, each with a comment saying so', () => {
  const unscoped = allStatements(template.Resources).filter(
    (s) => s.Effect === 'Allow' && JSON.stringify(s.Resource ?? null).match(/(^|\[|,)"\*"(\]|,|$)/),
  );
  assert.ok(unscoped.length >= 4, `${unscoped.length} statements on "*"`);
  for (const s of unscoped)
    for (const a of actionsOf(s))
      assert.ok(
        WITHOUT_RESOURCE_LEVEL.includes(a),
        `${s.Sid}: ${a} takes a resource; scope it instead of "*"`,
      );
  // batch:TerminateJob above all: it ends jobs, and takes the job's ARN.
  assert.ok(!unscoped.some((s) => actionsOf(s).includes('batch:TerminateJob')));
  const lines = readFileSync(new URL('../../template.yaml', import.meta.url), 'utf8').split('\n');
  const stars = lines.flatMap((l, i) => (/^\s*Resource: "\*"\s*$/.test(l) ? [i] : []));
  assert.equal(stars.length, unscoped.length, 'every "*" resource is written as Resource: "*"');
  for (const i of stars)
    assert.match(
      lines[i - 1]!,
      /^\s*# "\*": .*resource-level permissions/,
      `line ${i + 1} has no comment saying why`,
    );
});
