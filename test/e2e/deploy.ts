// Deploys what template.yaml describes onto moto: bucket, roles, compute environment, queue, both job definitions.
import {
  CreateComputeEnvironmentCommand,
  type CreateComputeEnvironmentCommandInput,
  CreateJobQueueCommand,
  type CreateJobQueueCommandInput,
  RegisterJobDefinitionCommand,
  type RegisterJobDefinitionCommandInput,
} from '@aws-sdk/client-batch';
import { fakeAuth } from '../integration/harness/clients.js';
import { ACCOUNT_ID, createBucket, createRole, REGION } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import { type CfnTemplate, jobDefinitions, loadTemplate, resource } from '../support/cfn-yaml.js';
import { evaluateConditions, parameterValues, resolveValue, type StackContext } from './cfn-resolve.js';

export interface Deployment {
  stack: StackContext;
  template: CfnTemplate;
  bucket: string;
  jobQueueArn: string;
  jobDefinitionArns: Record<'lambda' | 'geolambda', string>;
  /** the Dispatcher's Environment.Variables, resolved against what was created */
  dispatcherEnv: Record<string, string>;
}

/** Calls an EC2 query-API action on moto (no EC2 SDK client is installed) and returns the first `<tag>` value. */
async function ec2(h: Harness, action: string, params: Record<string, string>, tag: string): Promise<string> {
  const res = await fetch(`${h.motoEndpoint}/`, {
    method: 'POST',
    headers: { ...fakeAuth('ec2'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: action, Version: '2016-11-15', ...params }),
  });
  const text = await res.text();
  const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(text);
  if (!res.ok || !m?.[1]) throw new Error(`EC2 ${action} failed: ${res.status} ${text}`);
  return m[1];
}

/** A VPC with one subnet and one security group: what the Subnets and SecurityGroupIds parameters name. */
async function network(h: Harness): Promise<{ subnet: string; securityGroup: string }> {
  const vpc = await ec2(h, 'CreateVpc', { CidrBlock: '10.0.0.0/16' }, 'vpcId');
  const subnet = await ec2(h, 'CreateSubnet', { VpcId: vpc, CidrBlock: '10.0.1.0/24' }, 'subnetId');
  const securityGroup = await ec2(
    h,
    'CreateSecurityGroup',
    { VpcId: vpc, GroupName: 'e2e-jobs', GroupDescription: 'e2e jobs' },
    'groupId',
  );
  return { subnet, securityGroup };
}

// Map-valued properties whose keys are the user's names, not CloudFormation property names.
const USER_KEYED = new Set(['Parameters', 'Tags']);
// Properties the API types as numbers; CloudFormation passes every parameter value as a string.
const NUMERIC = new Set(['attempts', 'attemptDurationSeconds', 'priority', 'order', 'maxvCpus', 'minvCpus']);

/** CloudFormation's PascalCase properties as the Batch API's camelCase members (what the resource provider does). */
export function apiShape(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => apiShape(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const name = k.charAt(0).toLowerCase() + k.slice(1);
        return [name, USER_KEYED.has(k) ? v : apiShape(v, name)];
      }),
    );
  }
  return NUMERIC.has(key) ? Number(value) : value;
}

/** Physical names as CloudFormation makes them up: `<stack>-<LogicalId>-<suffix>`. */
const physicalName = (stack: string, id: string) => `${stack}-${id}-E2E`.slice(0, 64);

/**
 * Creates the template's resources the jobs need on moto, in dependency order, resolving every !Ref, !Sub,
 * !GetAtt and !If as CloudFormation would for `parameters` (merged over the template's defaults).
 */
export async function deployTemplate(
  h: Harness,
  opts: { stackName: string; parameters?: Record<string, string | string[]> },
): Promise<Deployment> {
  const template = loadTemplate();
  const { subnet, securityGroup } = await network(h);
  const stack: StackContext = {
    stackName: opts.stackName,
    region: REGION,
    accountId: ACCOUNT_ID,
    parameters: parameterValues(template, {
      Subnets: [subnet],
      SecurityGroupIds: [securityGroup],
      ...opts.parameters,
    }),
    conditions: {},
    refs: {},
    attrs: {},
  };
  evaluateConditions(template, stack);
  const props = (id: string, type: string) =>
    resolveValue(stack, resource(template, id, type).Properties ?? {}) as Record<string, unknown>;
  const { batch } = h.clients;

  if (stack.conditions.CreateBucket) {
    const bucket = physicalName(opts.stackName, 'PayloadBucket').toLowerCase();
    await createBucket(h, bucket);
    stack.refs.PayloadBucket = bucket;
    stack.attrs['PayloadBucket.Arn'] = `arn:aws:s3:::${bucket}`;
  }
  for (const id of ['JobRole', 'JobExecutionRole']) {
    const arn = await createRole(h, physicalName(opts.stackName, id), 'ecs-tasks.amazonaws.com');
    stack.refs[id] = physicalName(opts.stackName, id);
    stack.attrs[`${id}.Arn`] = arn;
  }

  if (stack.conditions.CreateQueue) {
    if (stack.conditions.CreateInstanceRole)
      throw new Error('the e2e deploy covers the Fargate compute types only');
    // The template leaves ServiceRole out (Batch then uses its service-linked role); moto insists on a role.
    const serviceRole = await createRole(h, 'AWSServiceRoleForBatch', 'batch.amazonaws.com');
    const ce = await batch.send(
      new CreateComputeEnvironmentCommand({
        computeEnvironmentName: physicalName(opts.stackName, 'ComputeEnvironment'),
        serviceRole,
        ...(apiShape(
          props('ComputeEnvironment', 'AWS::Batch::ComputeEnvironment'),
        ) as Partial<CreateComputeEnvironmentCommandInput>),
      } as CreateComputeEnvironmentCommandInput),
    );
    stack.refs.ComputeEnvironment = ce.computeEnvironmentArn ?? '';
    const q = await batch.send(
      new CreateJobQueueCommand({
        jobQueueName: physicalName(opts.stackName, 'JobQueue'),
        ...(apiShape(props('JobQueue', 'AWS::Batch::JobQueue')) as Partial<CreateJobQueueCommandInput>),
      } as CreateJobQueueCommandInput),
    );
    stack.refs.JobQueue = q.jobQueueArn ?? '';
  }

  const jobDefinitionArns = {} as Deployment['jobDefinitionArns'];
  const images: Record<string, 'lambda' | 'geolambda'> = {
    LambdaJobDefinition: 'lambda',
    GeoLambdaJobDefinition: 'geolambda',
  };
  for (const id of Object.keys(jobDefinitions(template))) {
    const image = images[id];
    const out = await batch.send(
      new RegisterJobDefinitionCommand(
        apiShape(props(id, 'AWS::Batch::JobDefinition')) as RegisterJobDefinitionCommandInput,
      ),
    );
    // Ref of an AWS::Batch::JobDefinition is its ARN, revision included.
    stack.refs[id] = out.jobDefinitionArn ?? '';
    if (image) jobDefinitionArns[image] = out.jobDefinitionArn ?? '';
  }

  // Only the Environment: the rest of the function (policies, layer) is not deployed here.
  const dispatcher = resource(template, 'Dispatcher', 'AWS::Serverless::Function').Properties ?? {};
  const { Variables } = resolveValue(stack, dispatcher.Environment) as { Variables: Record<string, unknown> };
  const output = (name: string) => String(resolveValue(stack, template.Outputs?.[name]?.Value));
  return {
    stack,
    template,
    bucket: output('PayloadBucket'),
    jobQueueArn: output('JobQueue'),
    jobDefinitionArns,
    dispatcherEnv: Object.fromEntries(Object.entries(Variables).map(([k, v]) => [k, String(v)])),
  };
}
