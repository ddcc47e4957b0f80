// The dispatcher's middy handler: a direct invoke (one request → one answer) or an SQS batch (→ batchItemFailures).
import type { BatchClient } from '@aws-sdk/client-batch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createJsonLogger, type JsonLogger } from '../../lib/logger.js';
import { settleBounded } from '../../lib/pool.js';
import type { BatchJobAnswer, BatchJobPlanAnswer } from '../../lib/request.js';
import { parseRequest, parseRequestBody } from '../../lib/request-parse.js';
import type { DispatcherConfig } from './config.js';
import { type DispatchOptions, dispatch } from './dispatch.js';
import { createFunctionLookup, type FunctionLookup, ownAccountGlobs, ownAccountOf } from './functions.js';
import { type Clock, createRateLimiter } from './rate-limit.js';

export interface HandlerOptions {
  s3: S3Client;
  lambda: LambdaClient;
  batch: BatchClient;
  config: DispatcherConfig;
  logger?: JsonLogger;
  /** Clock for the function cache (ms). */
  now?: () => number;
  /** Payload ids (default: random UUIDs). */
  newId?: () => string;
  /** Clock of the SUBMIT_RATE limiter and the SubmitJob backoff (tests pass a virtual one). */
  clock?: Clock;
}

export type DispatcherAnswer = BatchJobAnswer | BatchJobPlanAnswer;

export type DispatcherHandler = (
  event: unknown,
  context: Context,
) => Promise<DispatcherAnswer | SQSBatchResponse>;

export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((r) => (r as SQSRecord | null)?.eventSource === 'aws:sqs')
  );
}

/** What one invocation dispatches with: its log, and the options of each request it carries (its own key, for SQS). */
type Invocation = (context: Context) => {
  log: JsonLogger;
  optionsFor: (log: JsonLogger, defaultKey?: string) => DispatchOptions;
};

/** Per container: the cached function lookup and the SUBMIT_RATE limiter; per invocation: its log, account and time. */
function invocations(options: HandlerOptions, logger: JsonLogger): Invocation {
  const { config } = options;
  const lookup: FunctionLookup = createFunctionLookup(
    options.lambda,
    config.functionCacheMs,
    options.now,
    config.imageFunctions !== undefined,
  );
  const limiter = createRateLimiter(config.submitRate, options.clock);
  let coldStart = true;
  return (context) => {
    const log = logger.child({ function_request_id: context?.awsRequestId, cold_start: coldStart });
    coldStart = false;
    const allowed =
      config.allowedFunctions.length > 0
        ? config.allowedFunctions
        : ownAccountGlobs(context?.invokedFunctionArn);
    const own = ownAccountOf(context?.invokedFunctionArn);
    const remainingMs = context?.getRemainingTimeInMillis?.();
    const base = { ...options, lookup, allowed, own, limiter, ...(remainingMs ? { remainingMs } : {}) };
    return { log, optionsFor: (l, defaultKey) => ({ ...base, log: l, defaultKey }) };
  };
}

/** A direct invoke: one request, one answer; a failure is logged once and thrown (Lambda reports its name). */
function directHandler(invocation: Invocation) {
  return middy(async (event: unknown, context: Context): Promise<DispatcherAnswer> => {
    const { log, optionsFor } = invocation(context);
    try {
      return await dispatch(parseRequest(event), optionsFor(log));
    } catch (err) {
      log.error('dispatch failed', { error: err });
      throw err;
    }
  });
}

/**
 * An SQS batch: its records SQS_CONCURRENCY at a time, each failure a batchItemFailure and one ERROR line (from the
 * middleware's logger hook). A redelivered record keeps its message id, so by default it names the dispatch: no
 * second job.
 */
function sqsHandler(invocation: Invocation, concurrency: number, logger: JsonLogger) {
  const recordLog = new WeakMap<SQSRecord, JsonLogger>();
  return middy(async (event: SQSEvent, context: Context) => {
    const { log, optionsFor } = invocation(context);
    const results = await settleBounded(event.Records, concurrency, async (r) => {
      const rlog = log.child({ message_id: r.messageId });
      recordLog.set(r, rlog);
      return dispatch(parseRequestBody(r.body), optionsFor(rlog, r.messageId));
    });
    const failed = results.filter((res) => res.status === 'rejected').length;
    log.info('sqs batch done', { records: event.Records.length, failed });
    return results;
  }).use(
    sqsPartialBatchFailure({
      logger: (reason: unknown, record: SQSRecord) =>
        (recordLog.get(record) ?? logger.child({ message_id: record.messageId })).error('record failed', {
          error: reason,
        }),
    }),
  ) as unknown as (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
}

/** Builds the handler from clients and config (tests pass their own; index.ts passes the container's). */
export function createHandler(options: HandlerOptions): DispatcherHandler {
  const logger =
    options.logger ?? createJsonLogger({ service: 'dispatcher', level: options.config.logLevel });
  const invocation = invocations(options, logger);
  const direct = directHandler(invocation);
  const sqs = sqsHandler(invocation, options.config.sqsConcurrency, logger);
  return async (event, context) => {
    logger.debug('event received', { function_request_id: context?.awsRequestId, payload: event });
    return isSqsEvent(event) ? sqs(event, context) : direct(event, context);
  };
}
