// The Extensions API on the runner's Runtime API address, endpoint by endpoint, with the status codes, error types and
// messages Lambda answers (Extensions API reference; the refusals as AWS's Runtime Interface Emulator renders them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invokeEvent, shutdownEvent } from '../../runner/extensions/events.js';
import { startRuntimeApi } from '../../runner/runtime-api/server.js';
import { callPath, type Reply } from '../support/runtime-api-client.js';

const EXT = '/2020-01-01/extension';
const META = {
  functionName: 'f',
  functionVersion: '$LATEST',
  handler: 'app.handler',
  accountId: '123456789012',
};

async function started(external: string[] = ['ext-a']) {
  const api = await startRuntimeApi();
  api.extensions.expect(external);
  api.extensions.describeFunction(META);
  return api;
}

type Api = Awaited<ReturnType<typeof started>>;

const register = (api: Api, name: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  callPath(api, 'POST', `${EXT}/register`, typeof body === 'string' ? body : JSON.stringify(body), {
    ...(name === undefined ? {} : { 'Lambda-Extension-Name': name }),
    ...headers,
  });

const refusal = (r: Reply) =>
  ({ status: r.status, ...JSON.parse(r.body) }) as {
    status: number;
    errorType?: string;
    errorMessage?: string;
  };

test('register answers 200 with the identifier header and the function; accountId only with the accountId feature', async () => {
  const api = await started();
  const r = await register(api, 'ext-a', { events: ['INVOKE', 'SHUTDOWN'] });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['lambda-extension-identifier']), /^[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse(r.body), {
    functionName: 'f',
    functionVersion: '$LATEST',
    handler: 'app.handler',
  });
  const b = await register(
    api,
    'internal-b',
    { events: ['INVOKE'] },
    { 'Lambda-Extension-Accept-Feature': 'accountId' },
  );
  assert.equal(b.status, 200);
  assert.equal(JSON.parse(b.body).accountId, '123456789012');
  await api.close();
});

test('register refuses what Lambda refuses: no name, a bad body, an unknown event, SHUTDOWN for an internal one, twice', async () => {
  const api = await started();
  assert.deepEqual(refusal(await register(api, undefined, { events: [] })), {
    status: 403,
    errorType: 'Extension.InvalidExtensionName',
    errorMessage: 'Empty extension name',
  });
  assert.equal(
    JSON.parse((await register(api, 'ext-a', '{not json')).body).errorType,
    'InvalidRequestFormat',
  );
  assert.deepEqual(refusal(await register(api, 'ext-a', { events: ['INVOKE', 'RESTORE'] })), {
    status: 403,
    errorType: 'Extension.InvalidEventType',
    errorMessage: 'RESTORE: ErrorInvalidEventType',
  });
  // A name the runner did not start is an internal extension (in the runtime process): no SHUTDOWN for it.
  assert.deepEqual(refusal(await register(api, 'in-runtime', { events: ['INVOKE', 'SHUTDOWN'] })), {
    status: 403,
    errorType: 'Extension.InvalidEventType',
    errorMessage: 'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension',
  });
  assert.equal((await register(api, 'ext-a', { events: ['SHUTDOWN'] })).status, 200);
  const again = refusal(await register(api, 'ext-a', { events: ['SHUTDOWN'] }));
  assert.equal(again.status, 403);
  assert.equal(again.errorType, 'Extension.InvalidExtensionState');
  await api.close();
});

test('at most 10 extensions register; after init, registration is closed', async () => {
  const api = await started([]);
  for (let i = 0; i < 10; i++) assert.equal((await register(api, `e${i}`, { events: [] })).status, 200);
  assert.deepEqual(refusal(await register(api, 'e10', { events: [] })), {
    status: 403,
    errorType: 'Extension.TooManyExtensions',
    errorMessage: 'Extension limit (10) reached',
  });
  const closed = await started([]);
  closed.extensions.closeRegistration();
  assert.deepEqual(refusal(await register(closed, 'late', { events: [] })), {
    status: 403,
    errorType: 'Extension.RegistrationClosed',
    errorMessage: 'Extension registration closed already',
  });
  await api.close();
  await closed.close();
});

test('next needs a known identifier; it is held until an event, which comes as Lambda shapes it', async () => {
  const api = await started();
  const next = (id?: string) =>
    callPath(api, 'GET', `${EXT}/event/next`, undefined, id ? { 'Lambda-Extension-Identifier': id } : {});
  assert.equal(JSON.parse((await next()).body).errorType, 'Extension.MissingExtensionIdentifier');
  assert.equal(JSON.parse((await next('nope')).body).errorType, 'Extension.InvalidExtensionIdentifier');
  assert.equal(
    JSON.parse((await next('00000000-0000-0000-0000-000000000000')).body).errorType,
    'Extension.UnknownExtensionIdentifier',
  );
  const id = String(
    (await register(api, 'ext-a', { events: ['INVOKE', 'SHUTDOWN'] })).headers['lambda-extension-identifier'],
  );
  const held = next(id);
  await new Promise((r) => setTimeout(r, 50));
  const inv = {
    requestId: 'r-1',
    deadlineMs: 1_700_000_000_000,
    invokedFunctionArn: 'arn:f',
    traceId: 'Root=1-a-b',
  };
  assert.deepEqual(api.extensions.dispatch(invokeEvent(inv)), ['ext-a']);
  const got = await held;
  assert.equal(got.status, 200);
  assert.match(String(got.headers['lambda-extension-event-identifier']), /^[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse(got.body), {
    eventType: 'INVOKE',
    deadlineMs: 1_700_000_000_000,
    requestId: 'r-1',
    invokedFunctionArn: 'arn:f',
    tracing: { type: 'X-Amzn-Trace-Id', value: 'Root=1-a-b' },
  });
  // An event queued while the extension was busy is handed out at once on its next ask.
  api.extensions.dispatch(shutdownEvent('spindown', 1_700_000_002_000));
  assert.deepEqual(JSON.parse((await next(id)).body), {
    eventType: 'SHUTDOWN',
    shutdownReason: 'spindown',
    deadlineMs: 1_700_000_002_000,
  });
  await api.close();
});

test('init/error needs the error type header, answers 202, and no call of that extension succeeds after it', async () => {
  const api = await started();
  const id = String(
    (await register(api, 'ext-a', { events: ['INVOKE'] })).headers['lambda-extension-identifier'],
  );
  const post = (headers: Record<string, string>) =>
    callPath(api, 'POST', `${EXT}/init/error`, '{"errorMessage":"no config","errorType":"x"}', headers);
  assert.deepEqual(refusal(await post({ 'Lambda-Extension-Identifier': id })), {
    status: 403,
    errorType: 'Extension.MissingHeader',
    errorMessage: 'Lambda-Extension-Function-Error-Type not found',
  });
  const ok = await post({
    'Lambda-Extension-Identifier': id,
    'Lambda-Extension-Function-Error-Type': 'Extension.BadConfig',
  });
  assert.equal(ok.status, 202);
  const [view] = api.extensions.list();
  assert.equal(view?.errorType, 'Extension.BadConfig');
  assert.equal(view?.errorMessage, 'no config');
  const after = await callPath(api, 'GET', `${EXT}/event/next`, undefined, {
    'Lambda-Extension-Identifier': id,
  });
  assert.equal(JSON.parse(after.body).errorType, 'Extension.InvalidExtensionState');
  await api.close();
});

test('exit/error after init: the same header and answer as init/error, the type kept for the record, the extension done', async () => {
  const api = await started();
  const id = String(
    (await register(api, 'ext-a', { events: ['INVOKE'] })).headers['lambda-extension-identifier'],
  );
  const post = (headers: Record<string, string>) =>
    callPath(api, 'POST', `${EXT}/exit/error`, '{"errorMessage":"lost its backend"}', headers);
  assert.equal(
    refusal(await post({ 'Lambda-Extension-Identifier': id })).errorType,
    'Extension.MissingHeader',
  );
  assert.equal(
    refusal(
      await post({
        'Lambda-Extension-Identifier': '00000000-0000-0000-0000-000000000000',
        'Lambda-Extension-Function-Error-Type': 'Extension.LostBackend',
      }),
    ).errorType,
    'Extension.UnknownExtensionIdentifier',
  );
  const ok = await post({
    'Lambda-Extension-Identifier': id,
    'Lambda-Extension-Function-Error-Type': 'Extension.LostBackend',
  });
  assert.equal(ok.status, 202);
  const [view] = api.extensions.list();
  assert.equal(view?.errorType, 'Extension.LostBackend');
  assert.equal(view?.errorMessage, 'lost its backend');
  const after = await callPath(api, 'GET', `${EXT}/event/next`, undefined, {
    'Lambda-Extension-Identifier': id,
  });
  assert.equal(JSON.parse(after.body).errorType, 'Extension.InvalidExtensionState');
  await api.close();
});

test("an extension's requests do not count as the runtime's first request", async () => {
  const api = await started();
  let connected = false;
  void api.connected().then(() => {
    connected = true;
  });
  await register(api, 'ext-a', { events: [] });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(connected, false);
  await api.close();
});
