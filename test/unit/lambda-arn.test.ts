// Function references and Lambda ARNs (lib/lambda-arn.ts), held to Lambda's limits: a name of 1-64 characters, a
// qualifier of $LATEST, a version or a 1-128 character alias, a reference of at most 170 characters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FUNCTION_NAME,
  functionArn,
  functionHome,
  functionParts,
  MAX_FUNCTION_REF_LENGTH,
  parseFunctionRef,
  parseLayerVersionArn,
  regionFromArn,
  requestedFunction,
  unqualifiedArn,
  unqualifiedRef,
} from '../../lib/lambda-arn.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:my-task';

test('functionParts splits name and qualifier of names and ARNs', () => {
  assert.deepEqual(functionParts(FN), { name: 'my-task' });
  assert.deepEqual(functionParts(`${FN}:$LATEST`), { name: 'my-task', qualifier: '$LATEST' });
  assert.deepEqual(functionParts('my-task:prod'), { name: 'my-task', qualifier: 'prod' });
  assert.deepEqual(functionParts('123456789012:function:my-task:7'), { name: 'my-task', qualifier: '7' });
});

test('every form Lambda takes gives its parts; only a full ARN names where the function lives', () => {
  assert.deepEqual(parseFunctionRef('task'), { name: 'task', arn: false });
  assert.deepEqual(parseFunctionRef(`${FN}:prod`), {
    name: 'my-task',
    qualifier: 'prod',
    arn: true,
    home: { partition: 'aws', region: 'us-east-1', account: '123456789012' },
    region: 'us-east-1',
    account: '123456789012',
  });
  assert.deepEqual(parseFunctionRef('eu-west-1:123456789012:function:task'), {
    name: 'task',
    arn: false,
    region: 'eu-west-1',
    account: '123456789012',
  });
  // Lambda's pattern lets an ARN leave parts out; such an ARN names no place, and the dispatcher refuses it.
  assert.equal(parseFunctionRef('arn:aws:lambda:us-east-1:function:task')?.home, undefined);
  assert.equal(parseFunctionRef('arn:aws:lambda:us-east-1:123456789012:task')?.home, undefined);
  for (const region of ['us-gov-west-1', 'cn-north-1', 'us-iso-east-1', 'us-isob-east-1'])
    assert.equal(parseFunctionRef(`arn:aws:lambda:${region}:123456789012:function:f`)?.home?.region, region);
});

test("Lambda's limits: a name of 64 characters, an alias of 128, a reference of 170; one more is refused", () => {
  const name = 'n'.repeat(64);
  assert.ok(FUNCTION_NAME.test(name));
  assert.ok(!FUNCTION_NAME.test(`${name}x`));
  assert.equal(parseFunctionRef(name)?.name, name);
  assert.equal(parseFunctionRef(`${name}x`), undefined);
  assert.equal(parseFunctionRef(`f:${'a'.repeat(128)}`)?.qualifier, 'a'.repeat(128));
  assert.equal(parseFunctionRef(`f:${'a'.repeat(129)}`), undefined);
  const head = 'arn:aws:lambda:us-east-1:123456789012:function:';
  const atLimit = `${head}${name}:${'a'.repeat(MAX_FUNCTION_REF_LENGTH - head.length - name.length - 1)}`;
  assert.equal(atLimit.length, 170);
  assert.equal(parseFunctionRef(atLimit)?.name, name);
  assert.equal(parseFunctionRef(`${atLimit}a`), undefined);
  for (const bad of ['my task', 'f.py', 'f:1.2', 'arn:aws:s3:::b', '', 'f::1'])
    assert.equal(parseFunctionRef(bad), undefined, bad);
});

test('a request naming no function is refused with InvalidRequestError naming lambda_function', () => {
  assert.throws(() => requestedFunction('my task'), {
    name: 'InvalidRequestError',
    message: /^lambda_function: is not a Lambda function name or ARN: "my task"$/,
  });
});

test('ARNs built and read back: qualified or not, the home of an invoked ARN, the region of any Lambda ARN', () => {
  const home = { partition: 'aws-cn', region: 'cn-north-1', account: '123456789012' };
  assert.equal(functionArn(home, 'f'), 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f');
  assert.equal(functionArn(home, 'f', '7'), 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f:7');
  assert.equal(unqualifiedArn(`${FN}:prod`), FN);
  assert.deepEqual(functionHome(`${FN}:live`), {
    partition: 'aws',
    region: 'us-east-1',
    account: '123456789012',
  });
  assert.equal(functionHome('arn:aws:lambda:us-east-1:123456789012:layer:gdal:3'), undefined);
  assert.equal(functionHome(undefined), undefined);
  assert.equal(regionFromArn('arn:aws:lambda:eu-west-1:123456789012:layer:gdal:3'), 'eu-west-1');
});

test('the region of a Lambda ARN in any partition; none for a bare name or another service', () => {
  assert.equal(regionFromArn('arn:aws:lambda:eu-west-1:123456789012:function:f'), 'eu-west-1');
  assert.equal(regionFromArn('arn:aws-cn:lambda:cn-north-1:123456789012:function:f:prod'), 'cn-north-1');
  assert.equal(regionFromArn('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f'), 'us-gov-west-1');
  assert.equal(regionFromArn('my-function'), undefined);
  assert.equal(regionFromArn('arn:aws:s3:::bucket'), undefined);
});

test('a reference less its qualifier, as GetFunction takes it: the full ARN, a partial ARN, or the name', () => {
  const without = (ref: string) => unqualifiedRef(parseFunctionRef(ref)!);
  assert.equal(without(`${FN}:prod`), FN);
  assert.equal(without('my-task:$LATEST'), 'my-task');
  assert.equal(without('123456789012:my-task:7'), '123456789012:function:my-task');
  assert.equal(without('eu-west-1:123456789012:function:my-task'), 'eu-west-1:123456789012:function:my-task');
});

test('a layer version ARN splits into the layer (GetLayerVersion LayerName) and its version; anything else is none', () => {
  const layer = 'arn:aws:lambda:us-west-2:552188055668:layer:geolambda';
  assert.deepEqual(parseLayerVersionArn(`${layer}:4`), { layerArn: layer, version: 4 });
  for (const bad of [
    layer,
    `${layer}:x`,
    `${FN}:4`,
    `arn:aws:lambda:us-west-2:552188055668:layer:${'n'.repeat(141)}:1`,
  ])
    assert.equal(parseLayerVersionArn(bad), undefined, bad);
});
