// Test fixtures on moto through the SDK: IAM roles, Lambda functions and layers, S3 objects, Batch queues.
import {
  type Architecture,
  CreateAliasCommand,
  CreateFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type AwsClients, fakeAuth } from './clients.js';
import type { Front } from './front.js';
import { buildZip, type ZipSpec } from './zip.js';

/** What the fixtures need from a harness (the Harness satisfies it). */
export interface FixtureTarget {
  clients: AwsClients;
  /** moto's own endpoint (IAM has no SDK client installed; we speak its query API) */
  motoEndpoint: string;
  /** code created through `clients` bypasses the front, so fixtures register the bytes there */
  front: Front;
}

export const ACCOUNT_ID = '123456789012';
export const REGION = 'us-east-1';

/**
 * Calls an IAM query-API action on moto and returns the XML answer. moto routes by the signature's
 * credential scope and does not check the signature itself.
 */
export async function iamCall(
  motoEndpoint: string,
  action: string,
  params: Record<string, string>,
): Promise<string> {
  const res = await fetch(`${motoEndpoint}/`, {
    method: 'POST',
    headers: { ...fakeAuth('iam'), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }),
  });
  const text = await res.text();
  if (!res.ok && !text.includes('EntityAlreadyExists'))
    throw new Error(`IAM ${action} failed: ${res.status} ${text}`);
  return text;
}

/**
 * Creates (or reuses) an IAM role that `service` may assume; returns its ARN. moto's Lambda refuses a
 * role ARN that does not exist, and Batch wants one for `serviceRole`.
 */
export async function createRole(
  h: Pick<FixtureTarget, 'motoEndpoint'>,
  name = 'harness-lambda-role',
  service = 'lambda.amazonaws.com',
): Promise<string> {
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  };
  await iamCall(h.motoEndpoint, 'CreateRole', {
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify(policy),
  });
  return `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
}

async function zipOf(files: ZipSpec | undefined, zip: Buffer | undefined): Promise<Buffer> {
  if (zip) return zip;
  return buildZip(
    files ?? { 'lambda_function.py': 'def lambda_handler(event, context):\n    return event\n' },
  );
}

/** Publishes a layer version from `files` (or a ready `zip`); returns its LayerVersionArn. */
export async function createLayer(
  h: FixtureTarget,
  name: string,
  files: ZipSpec | Buffer,
  runtimes: string[] = ['python3.12'],
): Promise<string> {
  const zip = Buffer.isBuffer(files) ? files : await buildZip(files);
  h.front.registerCode(zip);
  const out = await h.clients.lambda.send(
    new PublishLayerVersionCommand({
      LayerName: name,
      Content: { ZipFile: zip },
      CompatibleRuntimes: runtimes as Runtime[],
    }),
  );
  if (!out.LayerVersionArn) throw new Error(`PublishLayerVersion ${name} returned no ARN`);
  return out.LayerVersionArn;
}

export interface FunctionSpec {
  name: string;
  /** default python3.12 */
  runtime?: string;
  /** default lambda_function.lambda_handler */
  handler?: string;
  /** code as a zip spec; default: a Python handler that returns its event */
  files?: ZipSpec;
  /** code as ready zip bytes (wins over files) */
  zip?: Buffer;
  env?: Record<string, string>;
  /** layer version ARNs */
  layers?: string[];
  memory?: number;
  timeout?: number;
  tags?: Record<string, string>;
  architectures?: ('x86_64' | 'arm64')[];
  /** default: a role created by createRole() */
  role?: string;
}

/**
 * Creates a Lambda function on moto and registers its zip with the front, so GetFunction through the
 * front yields a Code.Location that serves exactly these bytes.
 * @example
 *   const fn = await createFunction(h, { name: 'echo', files: { 'lambda_function.py': src } });
 */
export async function createFunction(h: FixtureTarget, spec: FunctionSpec): Promise<FunctionConfiguration> {
  const zip = await zipOf(spec.files, spec.zip);
  h.front.registerCode(zip);
  const role = spec.role ?? (await createRole(h));
  return h.clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: spec.name,
      Runtime: (spec.runtime ?? 'python3.12') as Runtime,
      Handler: spec.handler ?? 'lambda_function.lambda_handler',
      Role: role,
      Code: { ZipFile: zip },
      Environment: spec.env ? { Variables: spec.env } : undefined,
      Layers: spec.layers,
      MemorySize: spec.memory,
      Timeout: spec.timeout,
      Tags: spec.tags,
      Architectures: spec.architectures as Architecture[] | undefined,
    }),
  );
}

export interface ImageFunctionSpec {
  name: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`; moto resolves it to `…@sha256:<digest>` */
  imageUri: string;
  /** ImageConfig: what the function overrides of its image's CMD, ENTRYPOINT and WORKDIR */
  command?: string[];
  entryPoint?: string[];
  workingDirectory?: string;
  env?: Record<string, string>;
  memory?: number;
  timeout?: number;
  tags?: Record<string, string>;
  architectures?: ('x86_64' | 'arm64')[];
  role?: string;
}

/**
 * Creates a container-image function (PackageType Image) on moto. moto does not check the image exists (its ECR
 * stub) and answers GetFunction with `Code.ResolvedImageUri` `<repository>@sha256:<hash of the URI>`.
 */
export async function createImageFunction(
  h: FixtureTarget,
  spec: ImageFunctionSpec,
): Promise<FunctionConfiguration & { resolvedImage: string }> {
  const role = spec.role ?? (await createRole(h));
  const imageConfig =
    spec.command || spec.entryPoint || spec.workingDirectory
      ? { Command: spec.command, EntryPoint: spec.entryPoint, WorkingDirectory: spec.workingDirectory }
      : undefined;
  const cfg = await h.clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: spec.name,
      PackageType: 'Image',
      Role: role,
      Code: { ImageUri: spec.imageUri },
      ImageConfig: imageConfig,
      Environment: spec.env ? { Variables: spec.env } : undefined,
      MemorySize: spec.memory,
      Timeout: spec.timeout,
      Tags: spec.tags,
      Architectures: spec.architectures as Architecture[] | undefined,
    }),
  );
  const got = await h.clients.lambda.send(new GetFunctionCommand({ FunctionName: spec.name }));
  const resolvedImage = got.Code?.ResolvedImageUri;
  if (!resolvedImage) throw new Error(`moto gave ${spec.name} no ResolvedImageUri`);
  return { ...cfg, resolvedImage };
}

/** Publishes a version of `name`; returns the version number as a string ("1", "2"…). */
export async function publishVersion(h: FixtureTarget, name: string): Promise<string> {
  const out = await h.clients.lambda.send(new PublishVersionCommand({ FunctionName: name }));
  if (!out.Version) throw new Error(`PublishVersion ${name} returned no version`);
  return out.Version;
}

/** Creates alias `alias` of `name` pointing at `version`; returns the alias ARN. */
export async function createAlias(
  h: FixtureTarget,
  name: string,
  alias: string,
  version: string,
): Promise<string> {
  const out = await h.clients.lambda.send(
    new CreateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: version }),
  );
  return out.AliasArn ?? '';
}

/** Creates a bucket (no error when it exists already). */
export async function createBucket(h: FixtureTarget, bucket: string): Promise<void> {
  try {
    await h.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

/** Writes an object; a non-Buffer, non-string body is written as JSON. */
export async function putObject(h: FixtureTarget, bucket: string, key: string, body: unknown): Promise<void> {
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  await h.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
}

/** Reads an object's bytes, or undefined when there is no such key. */
export async function getObject(h: FixtureTarget, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const out = await h.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Reads an object as JSON, or undefined when there is no such key. */
export async function getJson(h: FixtureTarget, bucket: string, key: string): Promise<unknown> {
  const b = await getObject(h, bucket, key);
  return b === undefined ? undefined : JSON.parse(b.toString('utf8'));
}
