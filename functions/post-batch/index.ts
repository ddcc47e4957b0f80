// Lambda entry point: clients and config are made once per container; `handler` is what Lambda calls.
import { BatchClient } from '@aws-sdk/client-batch';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { sdkClientConfig } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { readConfig } from './config.js';
import { createHandler, type PostBatchHandler } from './handler.js';

export { createHandler, type HandlerOptions } from './handler.js';

/** A handler for `env` with SDK clients of its own; a config error is kept and thrown by every invoke. */
export function handlerFromEnv(env: Env): PostBatchHandler {
  try {
    const config = readConfig(env);
    const timeouts = config.networkTimeouts;
    return createHandler({
      // Both calls are reads: the SDK's own retries, a stalled call among them, are safe.
      s3: new S3Client(sdkClientConfig(env, 's3', { timeouts })),
      batch: new BatchClient(sdkClientConfig(env, 'batch', { timeouts })),
      config,
    });
  } catch (err) {
    // Thrown at invoke rather than at import so Lambda reports it as the error (ConfigError: …), not an init crash.
    return async () => {
      throw err;
    };
  }
}

const containerHandler = handlerFromEnv(process.env);

export const handler = (event: unknown, context: Context) => containerHandler(event, context);
