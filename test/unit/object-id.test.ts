// What may name a dispatch's objects (lib/object-id.ts) and the keys lib/payload-store.ts builds from it: a hostile
// string is refused or encoded, the encoding is injective, and no key leaves `<prefix><function>/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkObjectId,
  ENCODED_ID_PREFIX,
  keyProblem,
  objectIdFor,
  RESERVED_ENDINGS,
} from '../../lib/object-id.js';
import {
  definitionLockKey,
  dispatchRecordKey,
  itemSetRef,
  payloadKey,
  payloadRef,
} from '../../lib/payload-keys.js';

test('a plain key names its objects as it is; any other string is encoded as .sha256-<64 hex>', () => {
  for (const key of ['feed-2026-12-01-tile-42', 'a.b', 'x', '-lead', '4e3a9c1e-1f0b-4a8e-9e0f-0d6c1d2b3a4f'])
    assert.equal(objectIdFor(key), key);
  for (const key of ['../../../escaped', 'a/b', '.hidden', '', 'k'.repeat(129), 'tab\t', 'k.dispatch', 'ü'])
    assert.match(objectIdFor(key), /^\.sha256-[0-9a-f]{64}$/, key);
  for (const ending of RESERVED_ENDINGS) assert.notEqual(objectIdFor(`k${ending}`), `k${ending}`);
});

test('the encoding is injective: a key spelling another key’s encoding, and keys UTF-8 would merge, get names of their own', () => {
  const hostile = '../x';
  const posing = objectIdFor(hostile);
  assert.ok(posing.startsWith(ENCODED_ID_PREFIX));
  // The collision attempt: a message id that is literally another id's encoding is not plain (it starts with .).
  assert.notEqual(objectIdFor(posing), posing);
  assert.notEqual(objectIdFor(posing), objectIdFor(hostile));
  // Two lone surrogates: UTF-8 makes both U+FFFD; the code units differ, and so do the names.
  assert.notEqual(objectIdFor('\uD800'), objectIdFor('\uD801'));
  const many = ['', ' ', '/', '//', '.', '..', '../', 'a/..', 'k.dispatch', 'k', 'K', 'k_out', 'k_out.run'];
  assert.equal(new Set(many.map(objectIdFor)).size, many.length);
});

test('an explicit key is refused with the reason: outside the alphabet, or ending like another object', () => {
  assert.match(keyProblem('a/b') ?? '', /^must be 1-128 letters/);
  assert.match(keyProblem('.x') ?? '', /\(not first\)/);
  assert.match(keyProblem('k.dispatch') ?? '', /^must not end in _out, _out\.run, \.dispatch, \.jobdef/);
  assert.equal(keyProblem('k.dispatched'), undefined);
  assert.equal(checkObjectId(objectIdFor('../x')), objectIdFor('../x'));
  assert.throws(() => checkObjectId('../x'), { name: 'InvalidRequestError', message: /^idempotency_key: / });
  assert.throws(() => checkObjectId(`${ENCODED_ID_PREFIX}zz`), { name: 'InvalidRequestError' });
});

test('every key payload-store builds refuses a function name or id that is not one segment of its own', () => {
  const place = { bucket: 'bkt', prefix: 'batch/' };
  for (const id of ['../escaped', 'a/b', '..', 'k_out', 'k.dispatch']) {
    assert.throws(() => payloadKey('batch/', 'task', id), {
      name: 'InvalidRequestError',
      message: /^idempotency_key: /,
    });
    assert.throws(() => dispatchRecordKey('batch/', 'task', id), { name: 'InvalidRequestError' });
    assert.throws(() => itemSetRef(place, 'task', id), { name: 'InvalidRequestError' });
    assert.throws(() => payloadRef(place, 'task', id), { name: 'InvalidRequestError' });
  }
  for (const name of ['../task', 'a/b', 'task.v2', ''])
    assert.throws(() => payloadKey('batch/', name, 'id'), {
      name: 'InvalidRequestError',
      message: /^lambda_function: /,
    });
  assert.throws(() => definitionLockKey('batch/', 'task', '../stk-fn-task', 'abc'), TypeError);
  assert.throws(() => definitionLockKey('batch/', 'task', 'stk-fn-task', '../x'), TypeError);
  const enc = objectIdFor('../../escaped');
  assert.equal(dispatchRecordKey('batch/', 'task', enc), `batch/task/${enc}.dispatch.json`);
  assert.equal(itemSetRef(place, 'task', enc).inPrefix, `batch/task/${enc}/in/`);
  assert.equal(
    definitionLockKey('batch/', 'task', 'stk-fn-task-0123456789ab', 'ab12'),
    'batch/task/stk-fn-task-0123456789ab.ab12.jobdef.json',
  );
});
