// Loads the commands (commands.ts and the SDK under them) on first use. The bundle carries them gzipped, so that
// --help and a usage error never compile the SDK: V8 compiles a whole ES module before it runs any of it (on these
// machines ~110 ms for lambda-batch's ~900 KB). From sources (tests through tsx) they are imported as they are.
import { gunzipSync } from 'node:zlib';

// Set by scripts/build/ops.mjs; absent when running from sources.
declare const __OPS_COMMANDS_GZ__: string | undefined;

export type Commands = typeof import('./commands.js');

export async function loadCommands(): Promise<Commands> {
  if (typeof __OPS_COMMANDS_GZ__ !== 'string') return import('./commands.js');
  const code = gunzipSync(Buffer.from(__OPS_COMMANDS_GZ__, 'base64'));
  // A data: module needs no file: nothing is written, nothing is left behind.
  return (await import(`data:text/javascript;base64,${code.toString('base64')}`)) as Commands;
}
