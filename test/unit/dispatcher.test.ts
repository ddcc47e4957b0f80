import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { readConfig, withStackPrefix } from '../../functions/dispatcher/config.js';
import {
  checkAllowed,
  ownAccountGlobs,
  ownAccountOf,
  qualifyFunction,
  type TargetFunction,
} from '../../functions/dispatcher/functions.js';
import { isSqsEvent } from '../../functions/dispatcher/handler.js';
import { requestSha256 } from '../../functions/dispatcher/idempotency.js';
import { readIndexList } from '../../functions/dispatcher/item-indexes.js';
import { chooseFlavour } from '../../functions/dispatcher/job-image.js';
import { jobNameFor } from '../../functions/dispatcher/plan.js';
import { ConfigError } from '../../lib/env.js';
import { FunctionNotAllowedError, InvalidRequestError, reviveDispatchError } from '../../lib/errors.js';
import { globToRegExp } from '../../lib/glob.js';
import { inlinePayloadUrl, payloadKey, payloadRef } from '../../lib/payload-keys.js';
import { parseRequest } from '../../lib/request-parse.js';

const ENV = { JOB_DEFINITION_LAMBDA: 'run-lambda', JOB_DEFINITION_GEOLAMBDA: 'run-geolambda' };
const GEO = /gdal|geolambda|lambgeo/i;

function fn(over: Partial<TargetFunction> = {}): TargetFunction {
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:task';
  return {
    arn,
    name: 'task',
    qualifier: undefined,
    jobArn: arn,
    runtime: 'python3.12',
    packageType: 'Zip',
    architecture: 'x86_64',
    layerArns: [],
    tags: {},
    ...over,
  };
}

test('config defaults: prefix batch/, inline 8192, GDAL pattern, own-account allow-list, 5-minute cache, 20 submits/s', () => {
  const c = readConfig(ENV);
  assert.equal(c.payloadPrefix, 'batch/');
  assert.equal(c.inlinePayloadLimit, 8192);
  assert.ok(c.geoLayerPattern.test('arn:aws:lambda:us-east-1:552188055668:layer:GeoLambda-Python:1'));
  assert.deepEqual(c.allowedFunctions, []);
  assert.equal(c.functionCacheMs, 300_000);
  assert.equal(c.submitRate, 20);
  assert.deepEqual(c.jobDefinitions, {
    'lambda:python3.12': 'run-lambda',
    'geolambda:python3.12': 'run-geolambda',
  });
});

test('config reads CIRRUS_PAYLOAD_BUCKET when PAYLOAD_BUCKET is unset, and the list of globs', () => {
  const c = readConfig({ ...ENV, CIRRUS_PAYLOAD_BUCKET: 'cirrus', ALLOWED_FUNCTIONS: 'arn:a:*, arn:b:*' });
  assert.equal(c.payloadBucket, 'cirrus');
  assert.deepEqual(c.allowedFunctions, ['arn:a:*', 'arn:b:*']);
  assert.equal(readConfig({ ...ENV, CIRRUS_PAYLOAD_BUCKET: 'c', PAYLOAD_BUCKET: 'p' }).payloadBucket, 'p');
});

test('JOB_DEFINITIONS maps <flavour>:<runtime> to definitions; the two variables are the python3.12 ones', () => {
  const defs = {
    'lambda:python3.13': 'stk-lambda-python3-13',
    'lambda:nodejs22.x': 'arn:aws:batch:us-east-1:123456789012:job-definition/stk-lambda-nodejs22-x:3',
    'geolambda:python3.13': 'stk-geolambda-python3-13:2',
  };
  const c = readConfig({ JOB_DEFINITION_LAMBDA: 'run-lambda', JOB_DEFINITIONS: JSON.stringify(defs) });
  assert.deepEqual(c.jobDefinitions, { ...defs, 'lambda:python3.12': 'run-lambda' });
  // Only one flavour configured is a valid deployment; the other's functions get UnsupportedRuntimeError.
  assert.deepEqual(readConfig({ JOB_DEFINITION_LAMBDA: 'x' }).jobDefinitions, { 'lambda:python3.12': 'x' });
  const same = { JOB_DEFINITIONS: '{"lambda:python3.12":"x"}', JOB_DEFINITION_LAMBDA: 'x' };
  assert.deepEqual(readConfig(same).jobDefinitions, { 'lambda:python3.12': 'x' });
});

test('JOB_DEFINITION_PREFIX alone configures the definitions of its images; JOB_QUEUE_ARM64 gets the stack prefix', () => {
  const c = readConfig({
    JOB_DEFINITION_PREFIX: 'stk',
    JOB_DEFINITION_RUNTIMES: 'lambda:python3.12, lambda:nodejs22.x geolambda:python3.12',
    JOB_DEFINITIONS: '{"lambda:python3.13:arm64": "my-own-arm64"}',
    JOB_QUEUE_ARM64: 'arm-queue',
    CIRRUS_STACK: 'cirrus',
  });
  assert.deepEqual(c.definitionPrefix, {
    prefix: 'stk',
    images: ['lambda:python3.12', 'lambda:nodejs22.x', 'geolambda:python3.12'],
  });
  assert.deepEqual(c.jobDefinitions, { 'lambda:python3.13:arm64': 'cirrus-my-own-arm64' });
  assert.equal(c.jobQueueArm64, 'cirrus-arm-queue');
  assert.equal(readConfig(ENV).jobQueueArm64, undefined);
  assert.equal(readConfig({ ...ENV, JOB_QUEUE_ARM64: '' }).jobQueueArm64, undefined, 'empty: no arm64 queue');
});

// Each: the env and what the ConfigError must say (it always names the variable).
const badConfigs: [string, Record<string, string>, RegExp][] = [
  [
    'no definitions at all',
    {},
    /^JOB_DEFINITION_PREFIX or JOB_DEFINITIONS \(or JOB_DEFINITION_LAMBDA \/ JOB_DEFINITION_GEOLAMBDA\) is required$/,
  ],
  [
    'a prefix without the images it names',
    { JOB_DEFINITION_PREFIX: 'stk' },
    /^JOB_DEFINITION_RUNTIMES is required with JOB_DEFINITION_PREFIX/,
  ],
  [
    'images without a prefix',
    { ...ENV, JOB_DEFINITION_RUNTIMES: 'lambda:python3.12' },
    /^JOB_DEFINITION_RUNTIMES is for JOB_DEFINITION_PREFIX, which is unset$/,
  ],
  [
    'an image of the prefix with an architecture',
    { JOB_DEFINITION_PREFIX: 'stk', JOB_DEFINITION_RUNTIMES: 'lambda:python3.12:arm64' },
    /^JOB_DEFINITION_RUNTIMES holds "lambda:python3.12:arm64"/,
  ],
  [
    'a prefix that is no definition name',
    { JOB_DEFINITION_PREFIX: 'my stack', JOB_DEFINITION_RUNTIMES: 'lambda:python3.12' },
    /^JOB_DEFINITION_PREFIX must be 1-96 letters/,
  ],
  [
    'an arm64 key of another architecture',
    { JOB_DEFINITIONS: '{"lambda:python3.12:x86_64":"d"}' },
    /^JOB_DEFINITIONS key "lambda:python3.12:x86_64" is not/,
  ],
  [
    'an arm64 runner image that is no image reference',
    {
      ...ENV,
      ALLOWED_IMAGE_REPOSITORIES: 'arn:aws:ecr:us-east-1:123456789012:repository/x',
      RUNNER_IMAGE: 'r:1',
      RUNNER_IMAGE_ARM64: 'not an image',
      JOB_ROLE_ARN: 'arn:aws:iam::123456789012:role/j',
      JOB_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/e',
    },
    /^RUNNER_IMAGE_ARM64 is not an image reference/,
  ],
  ['JOB_DEFINITIONS not JSON', { JOB_DEFINITIONS: '{lambda' }, /^JOB_DEFINITIONS is not JSON/],
  ['JOB_DEFINITIONS an array', { JOB_DEFINITIONS: '["a"]' }, /^JOB_DEFINITIONS must be a JSON object/],
  ['JOB_DEFINITIONS null', { JOB_DEFINITIONS: 'null' }, /^JOB_DEFINITIONS must be a JSON object/],
  ['a key without runtime', { JOB_DEFINITIONS: '{"lambda":"d"}' }, /^JOB_DEFINITIONS key "lambda" is not/],
  [
    'an unknown flavour',
    { JOB_DEFINITIONS: '{"docker:python3.12":"d"}' },
    /JOB_DEFINITIONS key "docker:python3.12"/,
  ],
  [
    'a value not a string',
    { JOB_DEFINITIONS: '{"lambda:python3.13":3}' },
    /^JOB_DEFINITIONS\["lambda:python3.13"\] is not/,
  ],
  [
    'an empty value',
    { JOB_DEFINITIONS: '{"lambda:python3.13":""}' },
    /^JOB_DEFINITIONS\["lambda:python3.13"\] is not/,
  ],
  [
    'a value with a space',
    { JOB_DEFINITIONS: '{"lambda:python3.13":"my def"}' },
    /JOB_DEFINITIONS\["lambda:python3.13"\]/,
  ],
  [
    'an ARN of another service',
    { JOB_DEFINITIONS: '{"lambda:python3.13":"arn:aws:s3:::b"}' },
    /JOB_DEFINITIONS\[/,
  ],
  [
    'a variable disagreeing with JOB_DEFINITIONS',
    { JOB_DEFINITIONS: '{"lambda:python3.12":"a"}', JOB_DEFINITION_LAMBDA: 'b' },
    /^JOB_DEFINITION_LAMBDA \(b\) and JOB_DEFINITIONS\["lambda:python3.12"\] \(a\) disagree$/,
  ],
  ['SUBMIT_RATE 0', { ...ENV, SUBMIT_RATE: '0' }, /^SUBMIT_RATE must be from 1 to 50/],
  ["SUBMIT_RATE over Batch's 50", { ...ENV, SUBMIT_RATE: '51' }, /^SUBMIT_RATE must be from 1 to 50/],
  [
    'SUBMIT_RATE not a number',
    { ...ENV, SUBMIT_RATE: 'fast' },
    /^SUBMIT_RATE must be a non-negative integer/,
  ],
  [
    'a bad layer pattern',
    { ...ENV, GEO_LAYER_PATTERN: '(' },
    /^GEO_LAYER_PATTERN is not a regular expression/,
  ],
  ['an inline limit Batch cannot carry', { ...ENV, INLINE_PAYLOAD_LIMIT: '40000' }, /at most 16384/],
];

for (const [what, env, message] of badConfigs) {
  test(`config refuses ${what} with a ConfigError naming it`, () => {
    assert.throws(
      () => readConfig(env),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      },
    );
  });
}

test('INLINE_PAYLOAD_LIMIT=0 is allowed (every payload to S3)', () => {
  assert.equal(readConfig({ ...ENV, INLINE_PAYLOAD_LIMIT: '0' }).inlinePayloadLimit, 0);
});

test('job names drop $LATEST, keep other qualifiers, and stay within Batch rules', () => {
  assert.equal(jobNameFor('my-task', '$LATEST'), 'my-task');
  assert.equal(jobNameFor('my-task', undefined), 'my-task');
  assert.equal(jobNameFor('my-task', 'prod'), 'my-task-prod');
  assert.equal(jobNameFor('_x.y', undefined), 'x-y');
  assert.equal(jobNameFor('a'.repeat(64), 'b'.repeat(128)).length, 128);
  assert.equal(jobNameFor('___', undefined), 'lambda-job');
});

test('CIRRUS_STACK prefixes bare names only, once', () => {
  assert.equal(withStackPrefix('basic-ondemand', 'cirrus-dev'), 'cirrus-dev-basic-ondemand');
  assert.equal(withStackPrefix('cirrus-dev-basic-ondemand', 'cirrus-dev'), 'cirrus-dev-basic-ondemand');
  const arn = 'arn:aws:batch:us-east-1:123456789012:job-queue/q';
  assert.equal(withStackPrefix(arn, 'cirrus-dev'), arn);
  assert.equal(withStackPrefix('q', undefined), 'q');
});

test('image: request first, then the batch:image tag, then a GDAL layer, else lambda', () => {
  const geoLayer = 'arn:aws:lambda:us-west-2:552188055668:layer:geolambda:4';
  const tagged = fn({ tags: { 'batch:image': 'lambda' }, layerArns: [geoLayer] });
  assert.deepEqual(chooseFlavour('geolambda', tagged, GEO), { image: 'geolambda', reason: 'request' });
  assert.equal(chooseFlavour(undefined, tagged, GEO).image, 'lambda');
  assert.match(chooseFlavour(undefined, tagged, GEO).reason, /tag batch:image=lambda/);
  assert.deepEqual(chooseFlavour(undefined, fn({ layerArns: [geoLayer] }), GEO), {
    image: 'geolambda',
    reason: `layer ${geoLayer}`,
  });
  assert.deepEqual(chooseFlavour(undefined, fn({ layerArns: ['arn:…:layer:numpy:1'] }), GEO), {
    image: 'lambda',
    reason: 'default',
  });
  assert.equal(
    chooseFlavour(undefined, fn({ tags: { 'batch:image': 'GeoLambda' } }), GEO).image,
    'geolambda',
  );
  assert.match(chooseFlavour(undefined, fn({ tags: { 'batch:image': 'rust' } }), GEO).reason, /not an image/);
});

test('globs: * spans anything, ? one character, dots and other regex characters are literal', () => {
  assert.ok(
    globToRegExp('arn:aws:lambda:us-east-1:1:function:*').test('arn:aws:lambda:us-east-1:1:function:x:prod'),
  );
  assert.ok(globToRegExp('arn:*:function:task-?').test('arn:aws:function:task-1'));
  assert.ok(!globToRegExp('arn:*:function:task-?').test('arn:aws:function:task-12'));
  assert.ok(!globToRegExp('a.c').test('abc'));
});

test('the default allow-list is the own account and region; a foreign function is refused', () => {
  const own = ownAccountGlobs('arn:aws:lambda:us-east-1:123456789012:function:dispatcher');
  assert.deepEqual(own, ['arn:aws:lambda:us-east-1:123456789012:function:*']);
  checkAllowed(fn(), own);
  const foreign = 'arn:aws:lambda:us-east-1:999999999999:function:task';
  assert.throws(() => checkAllowed(fn({ arn: foreign, jobArn: foreign }), own), FunctionNotAllowedError);
  assert.throws(() => checkAllowed(fn(), ownAccountGlobs(undefined)), /account is unknown/);
  // A glob naming the unqualified function also allows its versions and aliases.
  checkAllowed(fn({ qualifier: 'prod', jobArn: `${fn().arn}:prod` }), [fn().arn]);
});

test('a bare name, name:qualifier or partial ARN is qualified with the own account and region; a full ARN is kept', () => {
  const own = ownAccountOf('arn:aws:lambda:eu-west-1:123456789012:function:dispatcher');
  assert.deepEqual(own, { partition: 'aws', region: 'eu-west-1', account: '123456789012' });
  const base = 'arn:aws:lambda:eu-west-1:123456789012:function:task';
  assert.deepEqual(qualifyFunction('task', own), {
    arn: base,
    name: 'task',
    qualifier: undefined,
    jobArn: base,
  });
  assert.equal(qualifyFunction('task:prod', own).jobArn, `${base}:prod`);
  assert.equal(qualifyFunction('task:$LATEST', own).jobArn, base);
  assert.equal(
    qualifyFunction('999999999999:function:task', own).arn,
    base.replace('123456789012', '999999999999'),
  );
  const foreign = 'arn:aws:lambda:us-east-1:999999999999:function:task';
  assert.deepEqual(qualifyFunction(`${foreign}:7`, own), {
    arn: foreign,
    name: 'task',
    qualifier: '7',
    jobArn: `${foreign}:7`,
  });
  // The check runs on that ARN: another account's function never matches the own-account default.
  assert.throws(
    () => checkAllowed(qualifyFunction(foreign, own), ownAccountGlobs(base)),
    FunctionNotAllowedError,
  );
  assert.throws(() => qualifyFunction('task', undefined), {
    name: 'FunctionNotAllowedError',
    message: /account is unknown/,
  });
  assert.throws(() => qualifyFunction('arn:aws:lambda:us-east-1:function:task', own), {
    name: 'InvalidRequestError',
    message: /^lambda_function: /,
  });
});

test('payload keys follow <prefix><function>/<id>.json, with _out.json beside them', () => {
  assert.equal(payloadKey('batch/', 'task', 'id1'), 'batch/task/id1.json');
  assert.equal(payloadKey('batch', 'task', 'id1'), 'batch/task/id1.json');
  assert.equal(payloadKey('', 'task', 'id1'), 'task/id1.json');
  const ref = payloadRef({ bucket: 'bkt', prefix: 'batch/' }, 'task', 'id1');
  assert.equal(ref.url, 's3://bkt/batch/task/id1.json');
  assert.equal(ref.url_out, 's3://bkt/batch/task/id1_out.json');
  assert.notEqual(
    payloadRef({ bucket: 'bkt', prefix: '' }, 't').id,
    payloadRef({ bucket: 'bkt', prefix: '' }, 't').id,
  );
});

test('inline payloads are base64 data: URLs that decode to the same JSON', () => {
  const json = JSON.stringify({ ü: 'ñ', n: [1, 2] });
  const url = inlinePayloadUrl(json);
  assert.ok(url.startsWith('data:application/json;base64,'));
  assert.equal(Buffer.from(url.split(',')[1]!, 'base64').toString('utf8'), json);
});

test('SQS events are told apart from direct requests', () => {
  assert.ok(isSqsEvent({ Records: [{ eventSource: 'aws:sqs', body: '{}', messageId: '1' }] }));
  assert.ok(!isSqsEvent({ Records: [{ eventSource: 'aws:s3' }] }));
  assert.ok(!isSqsEvent({ lambda_function: 'f', payload: { Records: [] } }));
  assert.ok(!isSqsEvent(null));
});

test('a reported errorType is re-raised as its class, unknown ones keep their name', () => {
  const e = reviveDispatchError('InvalidRequestError', 'vcpus: bad');
  assert.ok(e instanceof InvalidRequestError);
  assert.equal(e.message, 'vcpus: bad');
  assert.ok(reviveDispatchError('ConfigError', 'x') instanceof ConfigError);
  assert.equal(reviveDispatchError('Runtime.ImportModuleError', 'm').name, 'Runtime.ImportModuleError');
});

test('a container with a bad config answers every invoke with the ConfigError instead of crashing at import', async () => {
  const { handlerFromEnv } = await import('../../functions/dispatcher/index.js');
  const handler = handlerFromEnv({ ...ENV, INLINE_PAYLOAD_LIMIT: 'lots' });
  await assert.rejects(handler({}, {} as never), {
    name: 'ConfigError',
    message: /INLINE_PAYLOAD_LIMIT must be a non-negative integer/,
  });
});

test("a redrive's parsed request has the same fingerprint as its fields: the list's place is not part of what was asked", () => {
  const raw = {
    lambda_function: 'f',
    url: 's3://bkt/s/in/',
    item_count: 10,
    item_indexes: 's3://bkt/s/in/redrive-1.json',
    idempotency_key: 'k-1',
  };
  const parsed = parseRequest(structuredClone(raw));
  assert.deepEqual(parsed.indexListAt, { bucket: 'bkt', key: 's/in/redrive-1.json' });
  assert.equal(requestSha256(parsed), requestSha256(raw));
  assert.notEqual(
    requestSha256(parsed),
    requestSha256({ ...raw, item_indexes: 's3://bkt/s/in/redrive-2.json' }),
  );
});

test('an index list named by a request that was not parsed is refused before S3 is asked (never the whole set run)', async () => {
  const s3 = { send: () => assert.fail('S3 was asked') } as unknown as S3Client;
  const req = {
    lambda_function: 'f',
    url: 's3://bkt/s/in/',
    item_count: 10,
    item_indexes: 's3://bkt/s/in/r.json',
  };
  await assert.rejects(readIndexList(req, s3), (err: Error) => {
    assert.equal(err.name, 'TypeError');
    assert.match(err.message, /^item_indexes: the request was not parsed/);
    return true;
  });
  assert.equal(
    await readIndexList({ lambda_function: 'f', url: 's3://bkt/s/in/', item_count: 10 }, s3),
    undefined,
  );
});
