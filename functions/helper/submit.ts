// The AWS half of the helper, loaded only when a job is submitted: S3 for oversized payloads, then the dispatcher.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import {
  MAX_CONNECT_TIMEOUT_S,
  networkTimeouts,
  regionFromEnv,
  sdkClientConfig,
} from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { DispatchError, reviveDispatchError } from '../../lib/errors.js';
import { parseJsonText } from '../../lib/json-text.js';
import { functionParts, regionFromArn } from '../../lib/lambda-arn.js';
import { itemSetRef, payloadRef } from '../../lib/payload-keys.js';
import { putItems, putObject } from '../../lib/payload-store.js';
import type { BatchJobAnswer, BatchJobRequest } from '../../lib/request.js';
import { parseRequest } from '../../lib/request-parse.js';
import { type HelperConfig, MAX_INVOKE_BYTES } from './config.js';
import { PayloadTooLargeError } from './errors.js';
import { jsonOf } from './request.js';

/** Sends requests to the dispatcher; keeps its SDK clients for the life of the Lambda container. */
export class Submitter {
  readonly #env: Env;
  readonly #lambda = new Map<string, LambdaClient>();
  #s3: S3Client | undefined;

  constructor(env: Env) {
    this.#env = env;
  }

  #lambdaFor(dispatcher: string): LambdaClient {
    // A dispatcher given as an ARN may live in another region than the feeder.
    const r = regionFromArn(dispatcher) ?? regionFromEnv(this.#env);
    const key = r ?? '';
    let client = this.#lambda.get(key);
    if (!client) {
      client = new LambdaClient({
        // Connecting is bounded; the answer is not: a synchronous Invoke is silent while the dispatcher works, and
        // the dispatcher's own timeout ends it. Explicit credentials only when the env carries them.
        ...sdkClientConfig(this.#env, 'lambda', {
          region: r,
          timeouts: { connectMs: MAX_CONNECT_TIMEOUT_S * 1000 },
        }),
        // No SDK retry: an Invoke whose answer was lost may have made the job; a resend could make another.
        // The caller's own retry (a retried Lambda invocation) carries the same idempotency key instead.
        maxAttempts: 1,
      });
      this.#lambda.set(key, client);
    }
    return client;
  }

  #s3Client(): S3Client {
    this.#s3 ??= new S3Client(sdkClientConfig(this.#env, 's3', { timeouts: networkTimeouts() }));
    return this.#s3;
  }

  /**
   * Submits `request` through `dispatcher`. When the invoke would be too large the payload goes to S3 first
   * (one object, or a set's items under `…/<id>/in/` sent as `url` + `item_count`), named by the idempotency
   * key when there is one, so a retried call rewrites the same objects.
   */
  async submit(request: BatchJobRequest, dispatcher: string, config: HelperConfig): Promise<BatchJobAnswer> {
    let body = jsonOf(request);
    const size = Buffer.byteLength(body);
    if (size > MAX_INVOKE_BYTES) {
      if (!config.payloadBucket)
        throw new PayloadTooLargeError(
          `the batch request is ${size} bytes, over the ${MAX_INVOKE_BYTES}-byte limit of a synchronous ` +
            'Lambda invoke; set PAYLOAD_BUCKET so the helper can pass the payload through S3',
        );
      // Checked as the dispatcher would before anything is written: the key and the function name the objects,
      // and a request the dispatcher would refuse leaves nothing behind.
      parseRequest(request);
      const place = { bucket: config.payloadBucket, prefix: config.payloadPrefix };
      const fn = functionParts(request.lambda_function).name;
      const key = request.idempotency_key;
      const s3 = this.#s3Client();
      if (request.payloads !== undefined) {
        const set = itemSetRef(place, fn, key);
        const items = request.payloads.map((p) => jsonOf(p));
        await putItems(s3, set, items);
        const { payloads: _, ...rest } = request;
        body = JSON.stringify({ ...rest, url: set.url, item_count: items.length });
      } else {
        const stored = payloadRef(place, fn, key);
        await putObject(s3, stored, jsonOf(request.payload));
        const { payload: _, ...rest } = request;
        body = JSON.stringify({ ...rest, url: stored.url });
      }
    }
    // Staged objects are left in place when the dispatch fails: a failed Invoke does not prove that no job was
    // submitted (a lost answer, a timeout, the dispatcher's own "may have been submitted"), and a job must find
    // its payload; the payload prefix's lifecycle rule expires them. Deleting would also need s3:DeleteObject on
    // the whole prefix for every feeder, which could then remove other jobs' payloads and results.
    return this.#invoke(dispatcher, body);
  }

  async #invoke(dispatcher: string, body: string): Promise<BatchJobAnswer> {
    const out = await this.#lambdaFor(dispatcher).send(
      new InvokeCommand({
        FunctionName: dispatcher,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(body),
      }),
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let answer: unknown;
    try {
      answer = parseJsonText(text);
    } catch (err) {
      throw new DispatchError(
        `dispatcher ${dispatcher} answered with something that is ${(err as Error).message}`,
      );
    }
    if (out.FunctionError) {
      const e = (answer ?? {}) as { errorType?: unknown; errorMessage?: unknown };
      throw reviveDispatchError(String(e.errorType ?? 'DispatchError'), String(e.errorMessage ?? ''));
    }
    return answer as BatchJobAnswer;
  }
}
