// GET /runtime/invocation/next: held until an invocation is offered, then hands out its event with Lambda's headers.
import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Invocation } from './invocation.js';
import { isRefusal } from './lifecycle.js';
import { type RouteContext, sendRefusal } from './state.js';

function invocationHeaders(inv: Invocation): OutgoingHttpHeaders {
  return {
    'Lambda-Runtime-Aws-Request-Id': inv.requestId,
    'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
    'Lambda-Runtime-Invoked-Function-Arn': inv.invokedFunctionArn,
    'Lambda-Runtime-Trace-Id': inv.traceId,
    ...(inv.tenantId === undefined ? {} : { 'Lambda-Runtime-Aws-Tenant-Id': inv.tenantId }),
    ...(inv.clientContext === undefined ? {} : { 'Lambda-Runtime-Client-Context': inv.clientContext }),
    ...(inv.cognitoIdentity === undefined ? {} : { 'Lambda-Runtime-Cognito-Identity': inv.cognitoIdentity }),
  };
}

export async function handleNext(ctx: RouteContext): Promise<void> {
  const { state, req, res } = ctx;
  const waiting = state.life.next();
  if (isRefusal(waiting)) {
    sendRefusal(res, waiting);
    return;
  }
  const conn = { clientPort: req.socket.remotePort ?? 0, serverPort: req.socket.localPort ?? 0 };
  // A runtime that gives up (or dies) while held leaves the queue; the invocation stays for the next `next`.
  const onClose = () => waiting.cancel();
  res.once('close', onClose);
  const slot = await waiting.slot;
  res.off('close', onClose);
  if (!slot) {
    res.destroy();
    return;
  }
  // Who asks is looked at before the event goes out, while its connection is sure to be open (a `next` that came
  // before the runner was ready to serve is looked at now, not when it came).
  await state
    .nextHook?.(conn)
    .catch((err: unknown) => state.log(`looking at the runtime that asked failed: ${String(err)}`));
  if (res.destroyed) {
    state.life.giveBack(slot);
    return;
  }
  const inv = slot.invocation;
  let event: Awaited<ReturnType<Invocation['openEvent']>>;
  try {
    event = await inv.openEvent();
  } catch (err) {
    // The invocation ends here: a runtime that never gets its event must not hold the sequence up.
    state.life.finish(slot, { kind: 'event-not-read', message: (err as Error)?.message ?? String(err) });
    throw err;
  }
  res.writeHead(200, {
    'Content-Type': 'application/json',
    // A known length spares clients chunked decoding (slow in Python's http.client for large bodies).
    ...(event.size === undefined ? {} : { 'Content-Length': String(event.size) }),
    ...invocationHeaders(inv),
  });
  state.log(`event handed to the runtime (request ${inv.requestId})`);
  req.resume();
  await pipeline(event.stream, res);
}
