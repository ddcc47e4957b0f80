// Deploys template.yaml onto moto's CloudFormation the way `sam deploy` deploys it: package the local artifacts
// (sam-package.ts), run the SAM transform (samtranslator, sam_translate.py), create the stack with parameters, read
// its outputs; and update and delete it.
//
// What moto's CloudFormation (5.2.1) cannot do, and what this file does about it:
// - AWS::Batch::ComputeEnvironment without ServiceRole is a KeyError in moto. AWS then uses Batch's service-linked
//   role; so does this file: it creates that role in moto's IAM and names it in the translated template.
// - AWS::Lambda::LayerVersion ignores LayerName (moto reads a property named LayerVersion) and its Ref renders as a
//   Python object in the outputs. The LayerName expression is passed as LayerVersion too (moto resolves it) and, as
//   a hidden output, read back; an output that is a Ref of a layer gets that layer's LayerVersionArn.
// - DescribeStacks on a deleted stack re-creates its resources (its outputs are resolved lazily): after DeleteStack
//   the status is read from ListStacks.
// - AWS::StepFunctions::StateMachine is created from DefinitionString alone: moto ignores DefinitionS3Location
//   (where `sam package` put the definition file) and DefinitionSubstitutions, and would create a machine with an
//   empty definition. The definition is read from where it was uploaded and passed as DefinitionString, its
//   substitutions as the variables of an Fn::Sub over it, which moto resolves (GetAtt of the functions) as
//   CloudFormation resolves DefinitionSubstitutions. That is the same text only while the definition holds no
//   `${…}` but the substitutions and no `$$` (moto's Sub reads `$$` as `$`); forMoto refuses any other.
// Gaps no test here depends on, left as they are: Batch job definitions lose Timeout, PlatformCapabilities and
// PropagateTags, and an empty-string parameter default becomes [] (the Batch executor reads [] as "", see
// batch-exec.ts); Lambda functions lose Architectures, Layers and Tags; IAM roles lose ManagedPolicyArns; the bucket
// loses its lifecycle, public access block and ownership controls; AWS::S3::BucketPolicy is not supported; Rules are
// not evaluated; DeleteStack leaves Batch resources (definitions, queue, compute environment) and
// AWS::IAM::ManagedPolicy in place (moto has no delete for them). The unit tests check those parts statically.
// - UsePreviousValue works in moto only for a parameter given before, which is also all `sam deploy` sends it for.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  type Stack as CfnStack,
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
  type Parameter,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateServiceLinkedRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { ListLayerVersionsCommand } from '@aws-sdk/client-lambda';
import { TEST_CREDENTIALS } from '../integration/harness/clients.js';
import { getObject, REGION } from '../integration/harness/fixtures.js';
import type { Harness } from '../integration/harness/index.js';
import { loadTemplate } from '../support/cfn-yaml.js';
import { missingTool, REPO_ROOT, toolPath } from '../support/tools.js';
import { type Artifact, packageArtifacts } from './sam-package.js';

export const ARTIFACT_BUCKET = 'e2e-sam-artifacts';
const LAYER_NAME_OUTPUT = 'MotoLayerName';

type Json = Record<string, unknown>;
interface CfnResource {
  Type: string;
  Properties?: Json;
  DeletionPolicy?: string;
}
export interface Translated {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface Stack {
  name: string;
  id: string;
  status: string;
  /** the stack's outputs as DescribeStacks gives them (after the layer-ARN repair above) */
  outputs: Record<string, string>;
  /** every parameter's value, defaults included, as DescribeStacks gives them */
  parameters: Record<string, string>;
  /** the parameters given so far (the others are at their defaults) */
  given: Record<string, string>;
  /** the CloudFormation template the SAM transform made (what CloudFormation deploys) */
  translated: Translated;
  /** the packaged artifacts by the local path the template names */
  artifacts: Record<string, Artifact>;
}

export function cloudFormation(h: Harness): CloudFormationClient {
  return new CloudFormationClient({
    endpoint: h.motoEndpoint,
    region: REGION,
    credentials: TEST_CREDENTIALS,
  });
}

/** The SAM transform of template.yaml, its local paths replaced by the packaged artifacts' S3 locations. */
export function translate(
  artifacts: Record<string, Artifact>,
  parameters: Record<string, string>,
): Translated {
  const locations = Object.fromEntries(Object.values(artifacts).map((a) => [a.path, a.url]));
  const python = toolPath('python3');
  const r = spawnSync(
    python,
    [
      join(REPO_ROOT, 'test/e2e/sam_translate.py'),
      join(REPO_ROOT, 'template.yaml'),
      JSON.stringify(locations),
      JSON.stringify(parameters),
    ],
    { encoding: 'utf8', env: { ...process.env, AWS_DEFAULT_REGION: REGION }, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error)
    throw new Error(
      (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? missingTool('python3') : String(r.error),
    );
  if (r.status !== 0) throw new Error(`sam_translate.py failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Translated;
}

/** The translated template with moto's gaps filled (the list at the top of this file). */
async function forMoto(h: Harness, template: Translated): Promise<Translated> {
  const t = structuredClone(template);
  t.Outputs ??= {};
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::Batch::ComputeEnvironment' && r.Properties && !r.Properties.ServiceRole)
      r.Properties.ServiceRole = await batchServiceLinkedRole(h);
    if (r.Type === 'AWS::Lambda::LayerVersion' && r.Properties?.LayerName) {
      r.Properties.LayerVersion = r.Properties.LayerName;
      t.Outputs[`${LAYER_NAME_OUTPUT}${id}`] = { Value: r.Properties.LayerName };
    }
    if (r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties?.DefinitionS3Location)
      r.Properties = await definitionAsString(h, id, r.Properties);
  }
  return t;
}

/** A state machine's properties with its uploaded definition and substitutions as one DefinitionString (see top). */
async function definitionAsString(h: Harness, id: string, properties: Json): Promise<Json> {
  const { DefinitionS3Location, DefinitionSubstitutions, ...rest } = properties;
  const { Bucket, Key } = DefinitionS3Location as { Bucket: string; Key: string };
  const text = (await getObject(h, Bucket, Key))?.toString('utf8');
  if (text === undefined) throw new Error(`${id}: no definition at s3://${Bucket}/${Key}`);
  const subs = (DefinitionSubstitutions ?? {}) as Json;
  const strays = [...text.matchAll(/\$\{[^}]*\}/g)].map((m) => m[0]).filter((s) => !(s.slice(2, -1) in subs));
  if (text.includes('$$')) strays.push('$$');
  if (strays.length > 0)
    throw new Error(
      `${id}: the definition holds ${strays.join(', ')}, which moto's Fn::Sub would not leave as DefinitionSubstitutions does`,
    );
  return { ...rest, DefinitionString: { 'Fn::Sub': [text, subs] } };
}

async function batchServiceLinkedRole(h: Harness): Promise<string> {
  const iam = new IAMClient({ endpoint: h.motoEndpoint, region: REGION, credentials: TEST_CREDENTIALS });
  try {
    const path = '/aws-service-role/batch.amazonaws.com/';
    const { Roles } = await iam.send(new ListRolesCommand({ PathPrefix: path }));
    if (Roles?.[0]?.Arn) return Roles[0].Arn;
    const { Role } = await iam.send(
      new CreateServiceLinkedRoleCommand({ AWSServiceName: 'batch.amazonaws.com' }),
    );
    return Role?.Arn ?? '';
  } finally {
    iam.destroy();
  }
}

async function describe(
  h: Harness,
  cfn: CloudFormationClient,
  name: string,
  given: Record<string, string>,
  template: Translated,
  artifacts: Record<string, Artifact>,
): Promise<Stack> {
  let stack: CfnStack | undefined;
  // moto completes each operation before it answers; the loop is for an engine that does not.
  for (let i = 0; i < 50; i++) {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
    if (!stack?.StackStatus?.endsWith('_IN_PROGRESS')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!stack?.StackId || !/^(CREATE|UPDATE)_COMPLETE$/.test(stack.StackStatus ?? ''))
    throw new Error(`stack ${name} is ${stack?.StackStatus}: ${stack?.StackStatusReason ?? ''}`);
  const raw = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const outputs: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith(LAYER_NAME_OUTPUT)) continue;
    const ref = (template.Outputs?.[key]?.Value as { Ref?: string } | undefined)?.Ref;
    const layerName = ref && raw[`${LAYER_NAME_OUTPUT}${ref}`];
    outputs[key] = layerName ? await latestLayerVersionArn(h, layerName) : value;
  }
  const parameters = Object.fromEntries(
    (stack.Parameters ?? []).map((p) => [p.ParameterKey ?? '', String(p.ParameterValue ?? '')]),
  );
  return {
    name,
    id: stack.StackId,
    status: stack.StackStatus ?? '',
    outputs,
    parameters,
    given,
    translated: template,
    artifacts,
  };
}

async function latestLayerVersionArn(h: Harness, layerName: string): Promise<string> {
  const { LayerVersions } = await h.clients.lambda.send(
    new ListLayerVersionsCommand({ LayerName: layerName }),
  );
  const latest = (LayerVersions ?? []).sort((a, b) => (b.Version ?? 0) - (a.Version ?? 0))[0];
  if (!latest?.LayerVersionArn) throw new Error(`no version of layer ${layerName}`);
  return latest.LayerVersionArn;
}

const asParameters = (values: Record<string, string>): Parameter[] =>
  Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));

/** Packages, translates and creates the stack `name` with `parameters` (CloudFormation strings; lists comma-joined). */
export async function createStack(
  h: Harness,
  name: string,
  parameters: Record<string, string>,
): Promise<Stack> {
  const artifacts = await packageArtifacts(h, loadTemplate(), ARTIFACT_BUCKET);
  const translated = translate(artifacts, parameters);
  const cfn = cloudFormation(h);
  try {
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: JSON.stringify(await forMoto(h, translated)),
        Parameters: asParameters(parameters),
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
      }),
    );
    return await describe(h, cfn, name, parameters, translated, artifacts);
  } finally {
    cfn.destroy();
  }
}

/**
 * Updates `stack` with `changes`; the parameters given before keep their values (UsePreviousValue, as `sam deploy`
 * sends them) and the others stay at their defaults.
 */
export async function updateStack(h: Harness, stack: Stack, changes: Record<string, string>): Promise<Stack> {
  const given = { ...stack.given, ...changes };
  const translated = translate(stack.artifacts, given);
  const cfn = cloudFormation(h);
  try {
    await cfn.send(
      new UpdateStackCommand({
        StackName: stack.name,
        TemplateBody: JSON.stringify(await forMoto(h, translated)),
        Parameters: Object.keys(given).map((ParameterKey) =>
          ParameterKey in changes
            ? { ParameterKey, ParameterValue: changes[ParameterKey] }
            : { ParameterKey, UsePreviousValue: true },
        ),
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
      }),
    );
    return await describe(h, cfn, stack.name, given, translated, stack.artifacts);
  } finally {
    cfn.destroy();
  }
}

/** Deletes `stack`; returns its final status, read from ListStacks. */
export async function deleteStack(h: Harness, stack: Stack): Promise<string> {
  const cfn = cloudFormation(h);
  try {
    await cfn.send(new DeleteStackCommand({ StackName: stack.name }));
    const { StackSummaries } = await cfn.send(new ListStacksCommand({}));
    return StackSummaries?.find((s) => s.StackId === stack.id)?.StackStatus ?? 'NOT_LISTED';
  } finally {
    cfn.destroy();
  }
}
