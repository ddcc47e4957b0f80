// Runs in a fresh node process for the dispatcher figure: times the built bundle's load and invokes, and the
// plain SDK calls it must make as their baseline; writes JSON to the file named in argv.
// Plain JavaScript run by plain node, so no TypeScript loader sits between the timer and the module load.
import { writeFileSync } from 'node:fs';

const [mode, bundle, outFile, samplesArg] = process.argv.slice(2);
const samples = Number(samplesArg ?? '30');
const env = process.env;
const report = (obj) => writeFileSync(outFile, JSON.stringify(obj));

if (mode === 'load-bundle') {
  const t0 = performance.now();
  await import(bundle);
  report({ ms: performance.now() - t0 });
} else if (mode === 'load-sdk') {
  // What any dispatcher must load at least: the three SDK clients it calls.
  const t0 = performance.now();
  await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-batch'),
  ]);
  report({ ms: performance.now() - t0 });
} else if (mode === 'latency') {
  report(await latency());
} else if (mode === 'items') {
  report(await items());
} else {
  throw new Error(`unknown mode ${mode}`);
}

async function latency() {
  const account = '123456789012';
  const fn = env.BENCH_FUNCTION;
  const context = {
    awsRequestId: 'bench',
    invokedFunctionArn: `arn:aws:lambda:${env.AWS_REGION}:${account}:function:dispatcher`,
  };
  const { handler } = await import(bundle);
  const timeIt = async (f) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const small = (i) => ({ lambda_function: fn, payload: { id: `item-${i}`, process: { tasks: {} } } });
  const big = (i) => ({ lambda_function: fn, payload: { id: `item-${i}`, blob: 'x'.repeat(1024 * 1024) } });
  const firstMs = await timeIt(() => handler(small(0), context));
  // The baseline: the same AWS calls made with the SDK straight from node_modules, same endpoint, same process.
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { BatchClient, SubmitJobCommand } = await import('@aws-sdk/client-batch');
  const s3 = new S3Client({ forcePathStyle: true });
  const batch = new BatchClient({});
  const submit = (i) =>
    batch.send(
      new SubmitJobCommand({
        jobName: fn,
        jobQueue: env.JOB_QUEUE,
        jobDefinition: env.JOB_DEFINITION_LAMBDA,
        parameters: { lambda_function: fn, url: `s3://${env.PAYLOAD_BUCKET}/sdk/${i}.json`, url_out: 'x' },
      }),
    );
  const body = JSON.stringify(big(0).payload);
  const putAndSubmit = async (i) => {
    await s3.send(new PutObjectCommand({ Bucket: env.PAYLOAD_BUCKET, Key: `sdk/${i}.json`, Body: body }));
    await submit(i);
  };
  await putAndSubmit(0);

  // Dispatcher and baseline samples alternate, so a drift in moto (it slows as jobs pile up) hits both alike.
  const smallMs = [];
  const sdkSmallMs = [];
  const bigMs = [];
  const sdkBigMs = [];
  for (let i = 0; i < samples; i++) {
    smallMs.push(await timeIt(() => handler(small(i), context)));
    sdkSmallMs.push(await timeIt(() => submit(i)));
  }
  for (let i = 0; i < samples; i++) {
    bigMs.push(await timeIt(() => handler(big(i), context)));
    sdkBigMs.push(await timeIt(() => putAndSubmit(i)));
  }

  // An SQS batch of 10 records in one invoke, against the same 10 requests as 10 direct invokes.
  const sqsBatchMs = [];
  const singlesMs = [];
  const rounds = Math.max(3, Math.floor(samples / 5));
  for (let r = 0; r < rounds; r++) {
    const requests = Array.from({ length: 10 }, (_, i) => small(r * 10 + i));
    const event = {
      Records: requests.map((req, i) => ({
        // Unique per round: a message id is its record's idempotency key, and a reused one is refused.
        messageId: `m${r}-${i}`,
        receiptHandle: `r${i}`,
        body: JSON.stringify(req),
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${env.AWS_REGION}:${account}:dispatch`,
        awsRegion: env.AWS_REGION,
      })),
    };
    sqsBatchMs.push(
      await timeIt(async () => {
        const out = await handler(event, context);
        if (out.batchItemFailures.length > 0) throw new Error(`SQS batch failures: ${JSON.stringify(out)}`);
      }),
    );
    singlesMs.push(
      await timeIt(async () => {
        for (const req of requests) await handler(req, context);
      }),
    );
  }
  return { firstMs, smallMs, bigMs, sdkSmallMs, sdkBigMs, sqsBatchMs, singlesMs };
}

// 10,000 payloads in one request (items_per_job 100) against the bare S3 writes of the same items (the same
// number in flight as the dispatcher's ITEM_WRITE_CONCURRENCY) plus one SubmitJob, alternating.
async function items() {
  const n = 10_000;
  const concurrency = 32;
  const context = {
    awsRequestId: 'bench-items',
    invokedFunctionArn: `arn:aws:lambda:${env.AWS_REGION}:123456789012:function:dispatcher`,
  };
  const { handler } = await import(bundle);
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { BatchClient, SubmitJobCommand } = await import('@aws-sdk/client-batch');
  const s3 = new S3Client({ forcePathStyle: true });
  const batch = new BatchClient({});
  const payloads = Array.from({ length: n }, (_, i) => ({ id: `item-${i}`, bbox: [i, i, i + 1, i + 1] }));
  const dispatcherMs = [];
  const baselineMs = [];
  const answers = [];
  for (let r = 0; r < samples; r++) {
    let t0 = performance.now();
    const a = await handler({ lambda_function: env.BENCH_FUNCTION, payloads, items_per_job: 100 }, context);
    dispatcherMs.push(performance.now() - t0);
    answers.push({ array_size: a.array_size, item_count: a.item_count });
    t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        await s3.send(
          new PutObjectCommand({
            Bucket: env.PAYLOAD_BUCKET,
            Key: `sdk-items/${r}/in/${i}.json`,
            Body: JSON.stringify(payloads[i]),
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await batch.send(
      new SubmitJobCommand({
        jobName: env.BENCH_FUNCTION,
        jobQueue: env.JOB_QUEUE,
        jobDefinition: env.JOB_DEFINITION_LAMBDA,
        arrayProperties: { size: n / 100 },
        parameters: {
          lambda_function: env.BENCH_FUNCTION,
          url: `s3://${env.PAYLOAD_BUCKET}/sdk-items/${r}/in/`,
        },
      }),
    );
    baselineMs.push(performance.now() - t0);
  }
  return { dispatcherMs, baselineMs, answers };
}
