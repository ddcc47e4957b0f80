// GET /runtime/invocation/next: hands the one event to the runtime, with Lambda's invocation headers.
import { pipeline } from 'node:stream/promises';
import type { RouteContext } from './state.js';

export async function handleNext(ctx: RouteContext): Promise<void> {
  const { state, res } = ctx;
  if (state.phase !== 'init') {
    // Lambda would hold this until the next event; a run has only one, so it waits until the runner ends.
    state.parked.add(res);
    res.on('close', () => state.parked.delete(res));
    state.log('runtime asked for another event; holding it until the run ends');
    return;
  }
  // Claim the invocation before any await, so a concurrent `next` parks instead of getting it too.
  state.phase = 'invoking';
  const inv = state.invocation;
  const event = await inv.openEvent();
  res.writeHead(200, {
    'Content-Type': 'application/json',
    // A known length spares clients chunked decoding (slow in Python's http.client for large bodies).
    ...(event.size === undefined ? {} : { 'Content-Length': String(event.size) }),
    'Lambda-Runtime-Aws-Request-Id': inv.requestId,
    'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
    'Lambda-Runtime-Invoked-Function-Arn': inv.invokedFunctionArn,
    'Lambda-Runtime-Trace-Id': inv.traceId,
  });
  state.log(`event handed to the runtime (request ${inv.requestId})`);
  await pipeline(event.stream, res);
}
