// What may name a dispatch's objects in S3 (`<prefix><function>/<id>.json`, `…/<id>.dispatch.json`, `…/<id>/in/`): a
// key the caller gave, checked; any other string that names a dispatch (an SQS message id), encoded so that it stays
// one path segment and no two strings share a name.
import { createHash } from 'node:crypto';
import { InvalidRequestError } from './errors.js';
import { FUNCTION_NAME } from './lambda-arn.js';

/** Letters, digits, `-`, `_` and `.` (not first), 1-128: one path segment, never `.` or `..`. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/**
 * Endings an id may not have. Beside `<id>.json` (the payload) the layout writes `<id>_out.json` (its result),
 * `<id>_out.run.json` (its run record), `<id>.dispatch.json` (its idempotency record) and
 * `<definition>.<spec>.jobdef.json` (a registration lock): an id with one of these endings would name another
 * dispatch's object (`k.dispatch` → `k.dispatch.json`, the record of `k`). With them refused, no two (id, object)
 * pairs share a name: every other pair of names differs in its last characters or holds a `/` the other lacks.
 */
export const RESERVED_ENDINGS = ['_out', '_out.run', '.dispatch', '.jobdef'] as const;

/** What an encoded id starts with; `.` never starts an IDEMPOTENCY_KEY, so an encoding is never a plain key. */
export const ENCODED_ID_PREFIX = '.sha256-';
const ENCODED_ID = /^\.sha256-[0-9a-f]{64}$/;

/** Why `key` cannot name objects as it is (a message that starts after the field name), or undefined. */
export function keyProblem(key: string): string | undefined {
  if (!IDEMPOTENCY_KEY.test(key))
    return `must be 1-128 letters, digits, -, _ or . (not first), got ${JSON.stringify(key.slice(0, 130))}`;
  const ending = RESERVED_ENDINGS.find((e) => key.endsWith(e));
  if (ending)
    return `must not end in ${RESERVED_ENDINGS.join(', ')} (the names of a dispatch's other objects), got ${JSON.stringify(key)}`;
  return undefined;
}

/**
 * The id that names the objects of the dispatch keyed by `key`, any string (an SQS message id): `key` itself when it
 * can name objects as it is (keyProblem says nothing), else `.sha256-<hex>` of its UTF-16 code units.
 *
 * Injective: a plain key maps to itself and never starts with `.`; an encoding always does, so the two ranges do
 * not meet; two different keys that are not plain share an encoding only if SHA-256 collides. A key that looks like
 * an encoding (`.sha256-…`) is not plain (it starts with `.`), so it is hashed in turn and cannot pose as another
 * key's encoding. The hash reads UTF-16 code units, not UTF-8: UTF-8 turns every lone surrogate into U+FFFD, which
 * would give two different message ids one name.
 */
export function objectIdFor(key: string): string {
  if (keyProblem(key) === undefined) return key;
  return `${ENCODED_ID_PREFIX}${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')}`;
}

/** `id` when it is a plain key or an encoding (what objectIdFor gives), else InvalidRequestError naming the key. */
export function checkObjectId(id: string): string {
  if (ENCODED_ID.test(id)) return id;
  const problem = keyProblem(id);
  if (problem) throw new InvalidRequestError(`idempotency_key: ${problem}`);
  return id;
}

/** `name` when it is a Lambda function name (no `/`, no dots), else InvalidRequestError naming lambda_function. */
export function checkFunctionName(name: string): string {
  if (!FUNCTION_NAME.test(name))
    throw new InvalidRequestError(
      `lambda_function: ${JSON.stringify(name.slice(0, 70))} is not a function name (1-64 letters, digits, - or _)`,
    );
  return name;
}
