// Finds, or registers exactly once, an image function's job definition. Batch has no conditional register (each
// RegisterJobDefinition makes a new revision), so the registration is claimed with an S3 conditional write
// (If-None-Match: *) of a small lock beside the payloads; other dispatchers wait for the winner's revision.
import { randomUUID } from 'node:crypto';
import {
  type BatchClient,
  DescribeJobDefinitionsCommand,
  type JobDefinition,
  RegisterJobDefinitionCommand,
} from '@aws-sdk/client-batch';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { JobDefinitionError, PayloadStoreError } from '../../lib/errors.js';
import { parseJsonText } from '../../lib/json-text.js';
import type { JsonLogger } from '../../lib/logger.js';
import { answeredStatus, isAnsweredRetryable, sendOrFind, withRetries } from '../../lib/retry.js';
import { formatS3Url, type S3Location } from '../../lib/s3-url.js';
import { type FunctionImageDefinition, SPEC_PARAMETER } from './function-image.js';
import { type Clock, realClock } from './rate-limit.js';

/** How long a registration claim holds: it covers one RegisterJobDefinition call and its retries. */
export const LOCK_LEASE_MS = 30_000;
/** Rounds a dispatcher waits for another's registration (with backoff, about 10 s in all), then gives up. */
const WAIT_ROUNDS = 12;
const WAIT_BASE_MS = 100;
const WAIT_CAP_MS = 1500;
const REGISTER_ATTEMPTS = 3;

export interface DefinitionDeps {
  batch: BatchClient;
  s3: S3Client;
  /** where the registration lock of this definition lives */
  lock: S3Location;
  log: JsonLogger;
  clock?: Clock;
  now?: () => number;
}

export interface EnsuredDefinition {
  /** ARN with revision */
  arn: string;
  /** found in Batch; registered by this dispatcher; or registered by another while this one waited */
  how: 'found' | 'registered' | 'waited';
}

interface Lock {
  owner: string;
  name: string;
  spec: string;
  /** ms since epoch: after it, a claim without an ARN is abandoned */
  expires_at: number;
  arn?: string;
}

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

const lostRace = (e: unknown) => [409, 412].includes(answeredStatus(e) ?? 0);
/** No answer, a server error or throttling: the call may have happened, or a retry may pass. */
const uncertain = (e: unknown) => answeredStatus(e) === undefined || isAnsweredRetryable(e);

/** The lowest ACTIVE revision of `def.name` with this spec: every dispatcher picks the same one. */
export async function findDefinition(
  batch: BatchClient,
  def: Pick<FunctionImageDefinition, 'name' | 'spec'>,
): Promise<string | undefined> {
  const matches: JobDefinition[] = [];
  let nextToken: string | undefined;
  do {
    const out = await batch.send(
      new DescribeJobDefinitionsCommand({
        jobDefinitionName: def.name,
        status: 'ACTIVE',
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const d of out.jobDefinitions ?? [])
      if (d.jobDefinitionName === def.name && d.parameters?.[SPEC_PARAMETER] === def.spec) matches.push(d);
    nextToken = out.nextToken;
  } while (nextToken);
  matches.sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  return matches[0]?.jobDefinitionArn;
}

async function putLock(s3: S3Client, at: S3Location, lock: Lock, condition: Partial<PutObjectCommandInput>) {
  await s3.send(
    new PutObjectCommand({
      Bucket: at.bucket,
      Key: at.key,
      Body: JSON.stringify(lock),
      ContentType: 'application/json',
      ...condition,
    }),
  );
}

async function readLock(s3: S3Client, at: S3Location): Promise<{ lock: Lock; etag: string } | undefined> {
  let text: string;
  let etag: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
    text = await out.Body!.transformToString();
    etag = out.ETag ?? '';
  } catch (err) {
    if ((err as SdkError).name === 'NoSuchKey') return undefined;
    throw new PayloadStoreError(`could not read ${formatS3Url(at)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return { lock: parseJsonText(text) as Lock, etag };
  } catch (err) {
    throw new PayloadStoreError(`the registration lock ${formatS3Url(at)} is ${(err as Error).message}`);
  }
}

/** Registers `def` (we hold the lock); an uncertain failure is looked for in Batch before it is sent again. */
async function register(deps: DefinitionDeps, def: FunctionImageDefinition): Promise<string> {
  const clock = deps.clock ?? realClock;
  const send = async () => {
    const out = await deps.batch.send(new RegisterJobDefinitionCommand(def.input));
    if (!out.jobDefinitionArn)
      throw new JobDefinitionError(`RegisterJobDefinition ${def.name} returned no ARN`);
    // A lock taken over from a dispatcher that died mid-register may leave a twin: the lowest revision wins.
    return (await findDefinition(deps.batch, def)) ?? out.jobDefinitionArn;
  };
  const unsure = (e: unknown) => !(e instanceof JobDefinitionError) && uncertain(e);
  try {
    const registered = await withRetries(
      () => sendOrFind(send, () => findDefinition(deps.batch, def), unsure),
      {
        attempts: REGISTER_ATTEMPTS,
        baseDelayMs: WAIT_BASE_MS,
        retryable: unsure,
        delayMs: (attempt) => WAIT_BASE_MS * 2 ** attempt,
        sleep: (ms) => clock.sleep(ms),
      },
    );
    return registered.value;
  } catch (err) {
    if (err instanceof JobDefinitionError) throw err;
    throw new JobDefinitionError(
      `RegisterJobDefinition ${def.name} (image ${def.image}) failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function registerHolding(
  deps: DefinitionDeps,
  def: FunctionImageDefinition,
  lock: Lock,
): Promise<EnsuredDefinition> {
  let arn: string;
  try {
    arn = await register(deps, def);
  } catch (err) {
    // Nothing was registered: free the claim so the next request tries at once instead of after the lease.
    await deps.s3
      .send(new DeleteObjectCommand({ Bucket: deps.lock.bucket, Key: deps.lock.key }))
      .catch((e: unknown) => deps.log.warn('could not release the job definition lock', { error: e }));
    throw err;
  }
  await putLock(deps.s3, deps.lock, { ...lock, arn }, {}).catch((e: unknown) =>
    // Batch has the definition; the next lookup finds it there.
    deps.log.warn('could not record the job definition in its lock', { error: e }),
  );
  deps.log.info('job definition registered', { job_definition: arn, image: def.image });
  return { arn, how: 'registered' };
}

/**
 * The definition's ARN: found by name and spec; else registered by the one dispatcher that claims its lock; else
 * (another holds the claim) waited for, and taken over once that claim's lease ran out with nothing registered.
 */
export async function ensureDefinition(
  deps: DefinitionDeps,
  def: FunctionImageDefinition,
): Promise<EnsuredDefinition> {
  const clock = deps.clock ?? realClock;
  const now = deps.now ?? Date.now;
  const lookup = async () => {
    try {
      return await findDefinition(deps.batch, def);
    } catch (err) {
      throw new JobDefinitionError(`DescribeJobDefinitions ${def.name} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  const found = await lookup();
  if (found) return { arn: found, how: 'found' };

  const mine: Lock = {
    owner: randomUUID(),
    name: def.name,
    spec: def.spec,
    expires_at: now() + LOCK_LEASE_MS,
  };
  const storeError = (err: unknown) =>
    new PayloadStoreError(`could not write ${formatS3Url(deps.lock)}: ${(err as Error).message}`, {
      cause: err,
    });
  try {
    await putLock(deps.s3, deps.lock, mine, { IfNoneMatch: '*' });
    return await registerHolding(deps, def, mine);
  } catch (err) {
    if (!lostRace(err)) throw err instanceof JobDefinitionError ? err : storeError(err);
  }
  for (let round = 0; round < WAIT_ROUNDS; round++) {
    await clock.sleep(Math.min(WAIT_CAP_MS, WAIT_BASE_MS * 2 ** round));
    const arn = await lookup();
    if (arn) return { arn, how: 'waited' };
    const seen = await readLock(deps.s3, deps.lock);
    if (!seen) {
      // Released by a dispatcher whose registration failed: claim it afresh.
      try {
        await putLock(
          deps.s3,
          deps.lock,
          { ...mine, expires_at: now() + LOCK_LEASE_MS },
          { IfNoneMatch: '*' },
        );
        return await registerHolding(deps, def, mine);
      } catch (err) {
        if (!lostRace(err)) throw err instanceof JobDefinitionError ? err : storeError(err);
        continue;
      }
    }
    if (seen.lock.expires_at > now()) continue;
    // The claimer's lease ran out and Batch has no such revision (its Lambda died): take over, If-Match on what
    // was read, so two waiters never both do.
    const taken = { ...mine, expires_at: now() + LOCK_LEASE_MS };
    try {
      await putLock(deps.s3, deps.lock, taken, { IfMatch: seen.etag });
    } catch (err) {
      if (!lostRace(err)) throw storeError(err);
      continue;
    }
    deps.log.warn('took over an abandoned job definition registration', { job_definition: def.name });
    return registerHolding(deps, def, taken);
  }
  throw new JobDefinitionError(
    `another dispatcher is registering the job definition ${def.name} and has not finished; try again later`,
  );
}
