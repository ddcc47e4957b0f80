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
import { type DispatchDeps, dispatch } from './dispatch.js';
import { createFunctionLookup, type FunctionLookup, ownAccountGlobs, ownAccountOf } from './functions.js';
import { type Clock, createRateLimiter } from './rate-limit.js';

export interface HandlerDeps {
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

/** Builds the handler from clients and config (tests pass their own; index.ts passes the container's). */
export function createHandler(deps: HandlerDeps): DispatcherHandler {
  const { config } = deps;
  const logger = deps.logger ?? createJsonLogger({ service: 'dispatcher', level: config.logLevel });
  const lookup: FunctionLookup = createFunctionLookup(
    deps.lambda,
    config.functionCacheMs,
    deps.now,
    config.imageFunctions !== undefined,
  );
  const limiter = createRateLimiter(config.submitRate, deps.clock);
  let coldStart = true;

  const invocation = (context: Context) => {
    const log = logger.child({ function_request_id: context?.awsRequestId, cold_start: coldStart });
    coldStart = false;
    const allowed =
      config.allowedFunctions.length > 0
        ? config.allowedFunctions
        : ownAccountGlobs(context?.invokedFunctionArn);
    const own = ownAccountOf(context?.invokedFunctionArn);
    const remainingMs = context?.getRemainingTimeInMillis?.();
    const base = { ...deps, lookup, allowed, own, limiter, ...(remainingMs ? { remainingMs } : {}) };
    return {
      log,
      deps: (l: JsonLogger, defaultKey?: string): DispatchDeps => ({ ...base, log: l, defaultKey }),
    };
  };

  const direct = middy(async (event: unknown, context: Context): Promise<DispatcherAnswer> => {
    const { log, deps: with_ } = invocation(context);
    try {
      return await dispatch(parseRequest(event), with_(log));
    } catch (err) {
      log.error('dispatch failed', { error: err });
      throw err;
    }
  });

  // One ERROR line per failed record, from the middleware's logger hook; records run SQS_CONCURRENCY at a time.
  const recordLog = new WeakMap<SQSRecord, JsonLogger>();
  const sqs = middy(async (event: SQSEvent, context: Context) => {
    const { log, deps: with_ } = invocation(context);
    const results = await settleBounded(event.Records, config.sqsConcurrency, async (r) => {
      const rlog = log.child({ message_id: r.messageId });
      recordLog.set(r, rlog);
      // A redelivered record keeps its message id, so by default it names the dispatch: no second job.
      return dispatch(parseRequestBody(r.body), with_(rlog, r.messageId));
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

  return async (event, context) => {
    logger.debug('event received', { function_request_id: context?.awsRequestId, payload: event });
    return isSqsEvent(event) ? sqs(event, context) : direct(event, context);
  };
}
