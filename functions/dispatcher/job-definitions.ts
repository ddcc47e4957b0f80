// Finds, or registers exactly once, an image function's job definition. Batch has no conditional register (each
// RegisterJobDefinition makes a new revision), so the registration is claimed with a lease (lib/s3-lease.ts) on a
// small lock beside the payloads; other dispatchers wait for the winner's revision.
import { randomUUID } from 'node:crypto';
import {
  type BatchClient,
  DescribeJobDefinitionsCommand,
  type JobDefinition,
  RegisterJobDefinitionCommand,
} from '@aws-sdk/client-batch';
import type { S3Client } from '@aws-sdk/client-s3';
import { JobDefinitionError } from '../../lib/errors.js';
import type { JsonLogger } from '../../lib/logger.js';
import { answeredStatus, isAnsweredRetryable, sendOrFind, withRetries } from '../../lib/retry.js';
import { type LeaseBody, leaseAt, leaseExpired } from '../../lib/s3-lease.js';
import type { S3Location } from '../../lib/s3-url.js';
import { type FunctionImageDefinition, SPEC_PARAMETER } from './function-image-definition.js';
import { type Clock, realClock } from './rate-limit.js';

/** How long a registration claim holds: it covers one RegisterJobDefinition call and its retries. */
export const LOCK_LEASE_MS = 30_000;
/** Rounds a dispatcher waits for another's registration (with backoff, about 10 s in all), then gives up. */
const WAIT_ROUNDS = 12;
const WAIT_BASE_MS = 100;
const WAIT_CAP_MS = 1500;
const REGISTER_ATTEMPTS = 3;

export interface DefinitionOptions {
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

/** The registration lock: which definition, and (once registered) its ARN. */
interface Lock extends LeaseBody {
  name: string;
  spec: string;
  arn?: string;
}

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

/** Registers `def` (we hold the lock); an uncertain failure is looked for in Batch before it is sent again. */
async function register(options: DefinitionOptions, def: FunctionImageDefinition): Promise<string> {
  const clock = options.clock ?? realClock;
  const send = async () => {
    const out = await options.batch.send(new RegisterJobDefinitionCommand(def.input));
    if (!out.jobDefinitionArn)
      throw new JobDefinitionError(`RegisterJobDefinition ${def.name} returned no ARN`);
    // A lock taken over from a dispatcher that died mid-register may leave a twin: the lowest revision wins.
    return (await findDefinition(options.batch, def)) ?? out.jobDefinitionArn;
  };
  const unsure = (e: unknown) => !(e instanceof JobDefinitionError) && uncertain(e);
  try {
    const registered = await withRetries(
      () => sendOrFind(send, () => findDefinition(options.batch, def), unsure),
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
  options: DefinitionOptions,
  def: FunctionImageDefinition,
  lock: Lock,
): Promise<EnsuredDefinition> {
  const lease = lockOf(options);
  let arn: string;
  try {
    arn = await register(options, def);
  } catch (err) {
    // Nothing was registered: free the claim so the next request tries at once instead of after the lease.
    await lease
      .release()
      .catch((e: unknown) => options.log.warn('could not release the job definition lock', { error: e }));
    throw err;
  }
  await lease.update({ ...lock, arn }).catch((e: unknown) =>
    // Batch has the definition; the next lookup finds it there.
    options.log.warn('could not record the job definition in its lock', { error: e }),
  );
  options.log.info('job definition registered', { job_definition: arn, image: def.image });
  return { arn, how: 'registered' };
}

const lockOf = (options: DefinitionOptions) => leaseAt<Lock>(options.s3, options.lock, 'registration lock');

/** Another dispatcher holds the registration and its lease still runs: wait a round, then look again. */
class HeldByAnother extends Error {}

/** The definition's lookup in Batch, or JobDefinitionError saying it failed. */
async function lookUp(batch: BatchClient, def: FunctionImageDefinition): Promise<string | undefined> {
  try {
    return await findDefinition(batch, def);
  } catch (err) {
    throw new JobDefinitionError(`DescribeJobDefinitions ${def.name} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * One round of waiting for another dispatcher's registration: its revision found in Batch; else its lock released
 * (its registration failed), claimed afresh; else its lease run out with nothing registered (its Lambda died), taken
 * over (If-Match on what was read, so two waiters never both do); else HeldByAnother.
 */
async function waitingRound(
  options: DefinitionOptions,
  def: FunctionImageDefinition,
  fresh: () => Lock,
): Promise<EnsuredDefinition> {
  const lease = lockOf(options);
  const arn = await lookUp(options.batch, def);
  if (arn) return { arn, how: 'waited' };
  const seen = await lease.read();
  if (!seen) {
    const mine = fresh();
    if (await lease.claim(mine)) return registerHolding(options, def, mine);
    throw new HeldByAnother();
  }
  if (!leaseExpired(seen.body, (options.now ?? Date.now)())) throw new HeldByAnother();
  const taken = fresh();
  if (!(await lease.takeOver(taken, seen.etag))) throw new HeldByAnother();
  options.log.warn('took over an abandoned job definition registration', { job_definition: def.name });
  return registerHolding(options, def, taken);
}

/**
 * The definition's ARN: found by name and spec; else registered by the one dispatcher that claims its lock; else
 * (another holds the claim) waited for, round after round with a growing wait, and claimed or taken over as
 * waitingRound says; after WAIT_ROUNDS, JobDefinitionError.
 */
export async function ensureDefinition(
  options: DefinitionOptions,
  def: FunctionImageDefinition,
): Promise<EnsuredDefinition> {
  const found = await lookUp(options.batch, def);
  if (found) return { arn: found, how: 'found' };
  const now = options.now ?? Date.now;
  const owner = randomUUID();
  const fresh = (): Lock => ({ owner, name: def.name, spec: def.spec, expires_at: now() + LOCK_LEASE_MS });
  const first = async () => {
    const mine = fresh();
    if (await lockOf(options).claim(mine)) return registerHolding(options, def, mine);
    throw new HeldByAnother();
  };
  const clock = options.clock ?? realClock;
  try {
    return await withRetries((attempt) => (attempt === 1 ? first() : waitingRound(options, def, fresh)), {
      attempts: 1 + WAIT_ROUNDS,
      baseDelayMs: WAIT_BASE_MS,
      retryable: (e) => e instanceof HeldByAnother,
      delayMs: (attempt) => Math.min(WAIT_CAP_MS, WAIT_BASE_MS * 2 ** (attempt - 1)),
      sleep: (ms) => clock.sleep(ms),
    });
  } catch (err) {
    if (!(err instanceof HeldByAnother)) throw err;
    throw new JobDefinitionError(
      `another dispatcher is registering the job definition ${def.name} and has not finished; try again later`,
    );
  }
}
