// Would IAM allow it? Recorded AWS calls checked against the template's own (resolved) policy statements.
import type { RecordedRequest } from '../integration/harness/front-log.js';
import { resource } from '../support/cfn-yaml.js';
import { resolveValue } from './cfn-resolve.js';
import type { Deployment } from './deploy.js';

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Permission {
  action: string;
  resource: string;
  /** the request's s3 `prefix` parameter, for the s3:prefix condition key */
  prefix?: string;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The inline statements of the Dispatcher (SAM `Policies`) or of an IAM role (`Policies[].PolicyDocument`). */
export function statementsOf(d: Deployment, id: 'Dispatcher' | 'JobRole'): Statement[] {
  const policies = resolveValue(d.stack, resource(d.template, id).Properties?.Policies) as {
    Statement?: Statement[];
    PolicyDocument?: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.Statement ?? p.PolicyDocument?.Statement ?? []);
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

/** The IAM action and resource one request needs (several for SubmitJob); throws for calls it does not know. */
export function permissionsFor(r: RecordedRequest, region: string, account: string): Permission[] {
  const lambdaArn = (kind: string, nameOrArn: string) =>
    nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:lambda:${region}:${account}:${kind}:${nameOrArn}`;
  const batchArn = (kind: string, nameOrArn: string) =>
    nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:batch:${region}:${account}:${kind}/${nameOrArn}`;
  const segments = r.path.split('/').filter(Boolean);
  if (r.service === 'lambda') {
    const q = r.query.get('Qualifier');
    if (r.operation === 'GetFunction') {
      const fn = lambdaArn('function', segments[2] ?? '');
      return [{ action: 'lambda:GetFunction', resource: q ? `${fn}:${q}` : fn }];
    }
    if (r.operation === 'GetFunctionConfiguration') {
      const fn = lambdaArn('function', segments[2] ?? '');
      return [{ action: 'lambda:GetFunctionConfiguration', resource: q ? `${fn}:${q}` : fn }];
    }
    if (r.operation === 'ListTags')
      return [{ action: 'lambda:ListTags', resource: segments.slice(2).join('/') }];
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
  const s3Action = r.service === 's3' ? S3_ACTIONS[r.operation] : undefined;
  if (s3Action) {
    const [bucket, ...key] = segments;
    const arn = key.length > 0 ? `arn:aws:s3:::${bucket}/${key.join('/')}` : `arn:aws:s3:::${bucket}`;
    return [{ action: s3Action, resource: arn, prefix: r.query.get('prefix') ?? undefined }];
  }
  throw new Error(`no IAM mapping for ${r.service} ${r.operation || r.method} ${r.path}`);
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(value);

function conditionHolds(c: Statement['Condition'], p: Permission): boolean {
  for (const [op, keys] of Object.entries(c ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      // The only condition the template's Allow statements use; anything else fails closed.
      if (op !== 'StringLike' || key !== 's3:prefix') return false;
      if (p.prefix === undefined || !list(values).some((v) => glob(v, p.prefix as string))) return false;
    }
  }
  return true;
}

/** True when an Allow statement covers the permission (no Deny statements are involved in these policies). */
export function allowed(statements: Statement[], p: Permission): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => glob(a, p.action)) &&
      list(s.Resource).some((res) => glob(res, p.resource)) &&
      conditionHolds(s.Condition, p),
  );
}
