// run-lambda's cirrus-v0 shim for Node.js: the runtime's client (the image's, or the runner's own) loads this
// module as the handler (by absolute path); it loads the function's real handler (RUN_LAMBDA_COMPAT_HANDLER) as
// Lambda's client would (../clients/handler-loader.mjs, bundled in by the build) and calls it with the event alone.
// Failures carry the client's error names and messages (Runtime.ImportModuleError…) and name the real handler.
import { loadHandler } from '../clients/handler-loader.mjs';

const real = process.env.RUN_LAMBDA_COMPAT_HANDLER ?? '';
process.env._HANDLER = real;

const fn = await loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), real);

export async function handler(event) {
  return fn(event);
}
