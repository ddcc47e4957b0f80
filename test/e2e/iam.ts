// Would IAM allow it? Each recorded AWS call, mapped to the action and resource IAM authorizes it as, decided
// against the policies of the caller's role as the stack deployed them (read back from moto's IAM).
// moto's own IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT) matches actions but, by its own notes, neither
// resources nor conditions, so the decision is made here: an explicit Deny wins, then any Allow; nothing else.
// Gaps filled: moto's CloudFormation stores a role's inline policies as Python dicts, so GetRolePolicy answers
// with their Python repr (see decode); and it keeps a statement, or a resource, that `!If [cond, …, AWS::NoValue]`
// removed as a null in its list, where CloudFormation leaves the element out (rolePolicies drops both too).
import { spawnSync } from 'node:child_process';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { TEST_CREDENTIALS } from '../integration/harness/clients.js';
import { REGION } from '../integration/harness/fixtures.js';
import type { RecordedRequest } from '../integration/harness/front-log.js';
import type { Harness } from '../integration/harness/index.js';
import { toolPath } from '../support/tools.js';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Permission {
  action: string;
  resource: string;
  /** the request's s3 `prefix` parameter, for the s3:prefix condition key */
  prefix?: string;
  /** for iam:PassRole, the service the role is handed to (iam:PassedToService) */
  passedToService?: string;
}

/** A role's statements, with where each came from (inline policy name or managed policy ARN). */
export interface RolePolicies {
  roleArn: string;
  statements: (Statement & { from: string })[];
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * A policy document as IAM returns it (URL-encoded JSON). The inline policies moto's CloudFormation puts on a role
 * come back as the Python repr of the document instead; Python itself reads those back.
 */
function decode(doc: string | undefined): { Statement?: unknown } {
  const text = decodeURIComponent(doc ?? '{}');
  try {
    return JSON.parse(text) as { Statement?: unknown };
  } catch {
    const py = spawnSync(
      toolPath('python3'),
      ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))'],
      { input: text, encoding: 'utf8' },
    );
    if (py.status !== 0)
      throw new Error(`a policy document that is neither JSON nor a Python literal: ${text}`);
    return JSON.parse(py.stdout) as { Statement?: unknown };
  }
}

/** Every statement of `roleArn`'s inline and attached managed policies (their default versions), from moto's IAM. */
export async function rolePolicies(h: Harness, roleArn: string): Promise<RolePolicies> {
  const iam = new IAMClient({ endpoint: h.motoEndpoint, region: REGION, credentials: TEST_CREDENTIALS });
  const RoleName = roleArn.split('/').at(-1) ?? '';
  const statements: RolePolicies['statements'] = [];
  const add = (doc: { Statement?: unknown }, from: string) => {
    for (const s of list(doc.Statement as Statement | Statement[] | null)) {
      if (s === null) continue;
      const resources = list(s.Resource as string | (string | null)[] | undefined);
      const kept = Array.isArray(s.Resource)
        ? { Resource: resources.filter((r): r is string => r !== null) }
        : {};
      statements.push({ ...s, ...kept, from });
    }
  };
  try {
    const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName }));
    for (const PolicyName of PolicyNames ?? []) {
      const p = await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }));
      add(decode(p.PolicyDocument), PolicyName);
    }
    const { AttachedPolicies } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
    for (const { PolicyArn } of AttachedPolicies ?? []) {
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn }));
      const v = await iam.send(
        new GetPolicyVersionCommand({ PolicyArn, VersionId: Policy?.DefaultVersionId }),
      );
      add(decode(v.PolicyVersion?.Document), PolicyArn ?? '');
    }
  } finally {
    iam.destroy();
  }
  return { roleArn, statements };
}

/** The access key a request was signed with: the tests give each caller its own, standing for its role. */
export const callerOf = (r: RecordedRequest) =>
  /Credential=([^/]+)\//.exec(String(r.headers.authorization ?? ''))?.[1];

const S3_ACTIONS: Record<string, string> = {
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  DeleteObject: 's3:DeleteObject',
  ListObjects: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
};

// Batch actions that take no resource-level permissions: IAM authorizes them on "*".
const BATCH_UNSCOPED = new Set(['ListJobs', 'DescribeJobs', 'DescribeJobDefinitions', 'DescribeJobQueues']);

/** The IAM action and resource one request needs (several for SubmitJob); throws for calls it does not know. */
export function permissionsFor(r: RecordedRequest, region: string, account: string): Permission[] {
  const lambdaArn = (kind: string, nameOrArn: string) =>
    nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:lambda:${region}:${account}:${kind}:${nameOrArn}`;
  const batchArn = (kind: string, nameOrArn: string) =>
    nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:batch:${region}:${account}:${kind}/${nameOrArn}`;
  const segments = r.path.split('/').filter(Boolean);
  if (r.service === 'lambda') {
    const q = r.query.get('Qualifier');
    const fn = () => {
      const arn = lambdaArn('function', segments[2] ?? '');
      return q ? `${arn}:${q}` : arn;
    };
    const byFunction: Record<string, string> = {
      GetFunction: 'lambda:GetFunction',
      GetFunctionConfiguration: 'lambda:GetFunctionConfiguration',
      Invoke: 'lambda:InvokeFunction',
    };
    const action = byFunction[r.operation];
    if (action) return [{ action, resource: fn() }];
    if (r.operation === 'ListTags') return [{ action: 'lambda:ListTags', resource: segments[2] ?? '' }];
    if (r.operation === 'GetLayerVersion')
      return [
        {
          action: 'lambda:GetLayerVersion',
          resource: `${lambdaArn('layer', segments[2] ?? '')}:${segments[4]}`,
        },
      ];
    if (r.operation === 'GetLayerVersionByArn')
      return [{ action: 'lambda:GetLayerVersion', resource: r.query.get('Arn') ?? '' }];
  }
  if (r.service === 'batch' && r.operation === 'SubmitJob') {
    const body = r.body as { jobQueue: string; jobDefinition: string };
    return [
      { action: 'batch:SubmitJob', resource: batchArn('job-queue', body.jobQueue) },
      { action: 'batch:SubmitJob', resource: batchArn('job-definition', body.jobDefinition) },
    ];
  }
  if (r.service === 'batch' && r.operation === 'RegisterJobDefinition') {
    // Registering a definition that names roles passes them to Batch: iam:PassRole on each, checked by Batch.
    const body = r.body as {
      jobDefinitionName: string;
      containerProperties?: { jobRoleArn?: string; executionRoleArn?: string };
      ecsProperties?: { taskProperties?: { taskRoleArn?: string; executionRoleArn?: string }[] };
    };
    const task = body.ecsProperties?.taskProperties?.[0];
    const roles = [
      body.containerProperties?.jobRoleArn,
      body.containerProperties?.executionRoleArn,
      task?.taskRoleArn,
      task?.executionRoleArn,
    ].filter((x): x is string => Boolean(x));
    return [
      { action: 'batch:RegisterJobDefinition', resource: batchArn('job-definition', body.jobDefinitionName) },
      ...roles.map((role) => ({
        action: 'iam:PassRole',
        resource: role,
        passedToService: 'batch.amazonaws.com',
      })),
    ];
  }
  if (r.service === 'batch' && BATCH_UNSCOPED.has(r.operation))
    return [{ action: `batch:${r.operation}`, resource: '*' }];
  const s3Action = r.service === 's3' ? S3_ACTIONS[r.operation] : undefined;
  if (s3Action) {
    const [bucket, ...key] = segments;
    const arn = key.length > 0 ? `arn:aws:s3:::${bucket}/${key.join('/')}` : `arn:aws:s3:::${bucket}`;
    return [{ action: s3Action, resource: arn, prefix: r.query.get('prefix') ?? undefined }];
  }
  throw new Error(`no IAM mapping for ${r.service} ${r.operation || r.method} ${r.path}`);
}

/** IAM's wildcard match: `*` any run of characters, `?` one; actions case-insensitively. */
const glob = (pattern: string, value: string, flags = '') =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    flags,
  ).test(value);

/** Condition values this evaluator knows for a request; any other key or operator fails loudly. */
function conditionHolds(c: Statement['Condition'], p: Permission): boolean {
  for (const [op, keys] of Object.entries(c ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      // The SDKs talk TLS to AWS; only the harness's own hop to the emulator is plain HTTP.
      const known: Record<string, string | undefined> = {
        'aws:SecureTransport': 'true',
        's3:prefix': p.prefix,
        'iam:PassedToService': p.passedToService,
      };
      const actual = known[key];
      if (!['StringLike', 'StringEquals', 'Bool'].includes(op) || !(key in known))
        throw new Error(`the IAM check does not know the condition ${op} ${key}: teach test/e2e/iam.ts`);
      if (actual === undefined) return false;
      const match =
        op === 'StringLike' ? glob : (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
      if (!list(values).some((v) => match(v, actual))) return false;
    }
  }
  return true;
}

function applies(s: Statement, p: Permission): boolean {
  if (s.NotAction !== undefined || s.NotResource !== undefined)
    throw new Error(`the IAM check does not evaluate NotAction/NotResource (statement ${s.Sid ?? '?'})`);
  return (
    list(s.Action).some((a) => glob(a, p.action, 'i')) &&
    list(s.Resource).some((res) => glob(res, p.resource)) &&
    conditionHolds(s.Condition, p)
  );
}

/** IAM's decision for one permission: an explicit Deny wins; else an Allow allows; else it is denied. */
export function decide(statements: Statement[], p: Permission): 'allow' | 'deny' {
  if (statements.some((s) => s.Effect === 'Deny' && applies(s, p))) return 'deny';
  return statements.some((s) => s.Effect === 'Allow' && applies(s, p)) ? 'allow' : 'deny';
}

/** Allow statements whose actions hold a wildcard (`s3:*`, `*`, `lambda:Get*`). */
export const wildcardAllows = (statements: Statement[]) =>
  statements.filter((s) => s.Effect === 'Allow' && list(s.Action).some((a) => a.includes('*')));
