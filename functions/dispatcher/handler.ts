// The dispatcher's middy handler: a direct invoke (one request → one answer) or an SQS batch (→ batchItemFailures).
import type { BatchClient } from '@aws-sdk/client-batch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createJsonLogger, type JsonLogger } from '../../lib/logger.js';
import { type BatchJobAnswer, parseRequest, parseRequestBody } from '../../lib/request.js';
import type { DispatcherConfig } from './config.js';
import { type DispatchDeps, dispatch } from './dispatch.js';
import { createFunctionLookup, type FunctionLookup, ownAccountGlobs } from './functions.js';

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
}

export type DispatcherHandler = (
  event: unknown,
  context: Context,
) => Promise<BatchJobAnswer | SQSBatchResponse>;

export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((r) => (r as SQSRecord | null)?.eventSource === 'aws:sqs')
  );
}

/** Runs `fn` over `items` with at most `limit` in flight; never rejects (each result is settled). */
async function settleAll<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>) {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Builds the handler from clients and config (tests pass their own; index.ts passes the container's). */
export function createHandler(deps: HandlerDeps) {
  const { config } = deps;
  const logger = deps.logger ?? createJsonLogger({ service: 'dispatcher', level: config.logLevel });
  const lookup: FunctionLookup = createFunctionLookup(deps.lambda, config.functionCacheMs, deps.now);
  let coldStart = true;

  const base = async (event: unknown, context: Context): Promise<BatchJobAnswer | SQSBatchResponse> => {
    const log = logger.child({ function_request_id: context?.awsRequestId, cold_start: coldStart });
    coldStart = false;
    const allowed =
      config.allowedFunctions.length > 0
        ? config.allowedFunctions
        : ownAccountGlobs(context?.invokedFunctionArn);
    const deps1 = (l: JsonLogger): DispatchDeps => ({ ...deps, lookup, allowed, log: l });

    if (!isSqsEvent(event)) {
      try {
        return await dispatch(parseRequest(event), deps1(log));
      } catch (err) {
        log.error('dispatch failed', { error: err });
        throw err;
      }
    }

    const records = event.Records;
    const results = await settleAll(records, config.sqsConcurrency, (r) => {
      const rlog = log.child({ message_id: r.messageId });
      return dispatch(parseRequestBody(r.body), deps1(rlog)).catch((err: unknown) => {
        rlog.error('dispatch failed', { error: err });
        throw err;
      });
    });
    const batchItemFailures: SQSBatchItemFailure[] = [];
    results.forEach((res, i) => {
      if (res.status === 'rejected') batchItemFailures.push({ itemIdentifier: records[i]!.messageId });
    });
    log.info('sqs batch done', { records: records.length, failed: batchItemFailures.length });
    return { batchItemFailures };
  };

  return middy(base).before((request) => {
    logger.debug('event received', {
      function_request_id: request.context?.awsRequestId,
      payload: request.event,
    });
  });
}
