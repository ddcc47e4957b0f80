// What `sam package` does with template.yaml's local artifacts: zip each folder (a file such as the state machine's
// definition goes as it is), upload it to an S3 bucket under a content-addressed key, and hand back the s3://
// location that replaces the local path in CodeUri / ContentUri / DefinitionUri.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import yazl from 'yazl';
import type { Harness } from '../integration/harness/index.js';
import type { CfnTemplate } from '../support/cfn-yaml.js';
import { REPO_ROOT } from '../support/tools.js';

/** The SAM resource properties `sam package` uploads (the kinds the template has). */
const PACKAGEABLE: Record<string, string> = {
  'AWS::Serverless::Function': 'CodeUri',
  'AWS::Serverless::LayerVersion': 'ContentUri',
  'AWS::Serverless::StateMachine': 'DefinitionUri',
};

export interface Artifact {
  /** the local path as the template names it, e.g. dist/dispatcher */
  path: string;
  bucket: string;
  key: string;
  url: string;
  /** the uploaded bytes: a folder's zip, or a file as it is */
  zip: Buffer;
  /** base64 SHA-256 of the upload: what Lambda reports as CodeSha256 for code deployed from a zip */
  codeSha256: string;
}

// sam zips with Python's ZipInfo defaults (1980-01-01) so that the same folder gives the same zip.
const MTIME = new Date(1980, 0, 1);

async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesOf(p)));
    else out.push(p);
  }
  return out;
}

/** A folder as `sam package` zips it for Lambda: files only, each mode with read for all added (0o444). */
export async function zipFolder(dir: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const file of await filesOf(dir)) {
    const { mode } = await stat(file);
    zip.addBuffer(await readFile(file), relative(dir, file), { mtime: MTIME, mode: mode | 0o444 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The local paths the template's SAM resources name, as `sam package` finds them. */
export function localArtifacts(template: CfnTemplate): string[] {
  const paths = new Set<string>();
  for (const r of Object.values(template.Resources)) {
    const prop = PACKAGEABLE[r.Type];
    const value = prop ? r.Properties?.[prop] : undefined;
    if (typeof value === 'string' && !value.startsWith('s3://')) paths.add(value);
  }
  return [...paths];
}

/**
 * Zips and uploads every local artifact of `template` to `bucket` on moto (key: the zip's MD5, as sam's
 * de-duplicating uploader names it) and registers the zip with the front, which serves the code bytes that
 * moto's `Code.Location` cannot.
 */
export async function packageArtifacts(
  h: Harness,
  template: CfnTemplate,
  bucket: string,
): Promise<Record<string, Artifact>> {
  try {
    await h.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
  }
  const out: Record<string, Artifact> = {};
  for (const path of localArtifacts(template)) {
    // sam zips folders (and a function's single file); a definition file is uploaded unzipped.
    const local = join(REPO_ROOT, path);
    const zip = (await stat(local)).isDirectory() ? await zipFolder(local) : await readFile(local);
    const key = createHash('md5').update(zip).digest('hex');
    await h.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip }));
    h.front.registerCode(zip);
    const codeSha256 = createHash('sha256').update(zip).digest('base64');
    out[path] = { path, bucket, key, url: `s3://${bucket}/${key}`, zip, codeSha256 };
  }
  return out;
}
