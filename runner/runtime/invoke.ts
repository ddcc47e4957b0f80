// One invocation: Runtime API up, runtime started, then the first of result, error, runtime exit, deadline or signal.
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Env } from '../../lib/env.js';
import {
  FunctionError,
  InvalidPayloadError,
  PayloadIOError,
  RuntimeNotAvailableError,
  StoppedBySignalError,
  TimeoutError,
} from '../errors.js';
import type { PreparedFunction } from '../function.js';
import type { Logger } from '../log.js';
import type { Compat } from '../options.js';
import type { PayloadFile } from '../payload/source.js';
import { type ApiLimits, type Outcome, startRuntimeApi } from '../runtime-api/server.js';
import { RUN_MARK, runtimeEnv } from './env.js';
import { setLongTimeout } from './long-timer.js';
import { describeExit, type SpawnFn, startRuntime } from './process.js';
import type { RuntimeCommand } from './select.js';

/**
 * Without --timeout nothing is enforced, but handlers still need a deadline to compute the remaining time from:
 * they see one 24 h away (longer than any Batch job is likely to be meant to run, and finite, unlike "no limit").
 */
export const NO_TIMEOUT_DEADLINE_MS = 24 * 3600 * 1000;
/** How long a runtime gets to exit after a forwarded SIGTERM/SIGINT before its group is killed. */
export const STOP_GRACE_MS = 2000;

export interface InvokeInput {
  fn: PreparedFunction;
  command: RuntimeCommand;
  payload: PayloadFile;
  resultPath: string;
  timeoutSeconds?: number;
  compat?: Compat;
  env: Env;
  spawn: SpawnFn;
  log: Logger;
  signal?: AbortSignal;
  /** Epoch milliseconds (deadlines are wall-clock, as in Lambda's header). */
  now?: () => number;
  limits?: Partial<ApiLimits>;
  stopGraceMs?: number;
  /** Per-invocation headers: tenant id, client context, Cognito identity (JSON text). */
  headers?: { tenantId?: string; clientContext?: string; cognitoIdentity?: string };
}

export function traceId(nowMs: number): string {
  const epoch = Math.floor(nowMs / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

export interface InvokeResult {
  bytes: number;
  /** CRC-32 of the result as stored (absent if the runtime API did not report it). */
  crc32?: number;
}

/** Serves exactly one invocation; resolves with the result size, or rejects with the run's error. */
export async function invokeOnce(input: InvokeInput): Promise<InvokeResult> {
  const { fn, log } = input;
  const now = input.now ?? Date.now;
  const started = now();
  const timeoutMs = input.timeoutSeconds === undefined ? undefined : input.timeoutSeconds * 1000;
  const deadlineMs = started + (timeoutMs ?? NO_TIMEOUT_DEADLINE_MS);
  let stored: { bytes: number; crc32: number } | undefined;
  const api = await startRuntimeApi({ limits: input.limits, log: (m) => log.debug(m) });
  // Offered before the runtime starts: its first `next` gets it.
  const offered = api.invoke({
    ...input.headers,
    requestId: randomUUID(),
    deadlineMs,
    invokedFunctionArn: fn.invokedFunctionArn,
    traceId: traceId(started),
    resultPath: input.resultPath,
    resultStored: (info) => {
      stored = info;
    },
    async openEvent() {
      await input.payload.ready;
      const { size } = await stat(input.payload.path);
      return { stream: createReadStream(input.payload.path, { highWaterMark: 1 << 20 }), size };
    },
  });
  log.debug(`runtime API listening on ${api.address}`);
  const runMark = randomUUID();
  const env = runtimeEnv({
    runMark,
    fn,
    base: input.env,
    runtimeApi: api.address,
    runtimeDir: input.command.runtimeDir,
    compat: input.compat,
  });
  const cleanups: (() => void)[] = [];
  let proc: Awaited<ReturnType<typeof startRuntime>> | undefined;
  try {
    proc = await startRuntime({
      command: input.command.command,
      args: input.command.args,
      env,
      cwd: fn.taskRoot,
      spawn: input.spawn,
      mark: [RUN_MARK, runMark],
    }).catch((err: Error) => {
      throw new RuntimeNotAvailableError(`cannot start ${input.command.command}: ${err.message}`, {
        cause: err,
      });
    });
    log.debug(
      `runtime started (pid ${proc.pid}): ${[input.command.command, ...input.command.args].join(' ')}`,
    );
    const running = proc;
    let settled: Outcome | undefined;
    const outcome = offered.then((o) => {
      settled = o;
      return o;
    });
    const failures = new Promise<never>((_, reject) => {
      input.payload.ready.catch(reject);
      void running.exited.then(async (exit) => {
        await api.settled();
        if (!settled) {
          reject(
            new FunctionError(
              'Runtime.ExitError',
              `runtime ${describeExit(exit)} before it returned a result`,
            ),
          );
        }
      });
      if (timeoutMs !== undefined) {
        const cancel = setLongTimeout(() => {
          running.signalGroup('SIGKILL');
          reject(new TimeoutError(`the function timed out after ${input.timeoutSeconds} s`));
        }, deadlineMs - now());
        cleanups.push(cancel);
      }
      const onAbort = () => {
        const sig = (input.signal?.reason as NodeJS.Signals) ?? 'SIGTERM';
        log.info(`received ${sig}; passing it to the runtime`);
        running.signalGroup(sig);
        const grace = setTimeout(() => running.signalGroup('SIGKILL'), input.stopGraceMs ?? STOP_GRACE_MS);
        void running.exited.then(() => {
          clearTimeout(grace);
          reject(new StoppedBySignalError(sig));
        });
      };
      if (input.signal?.aborted) onAbort();
      else input.signal?.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => input.signal?.removeEventListener('abort', onAbort));
    });
    const result = toResult(await Promise.race([outcome, failures]));
    return stored?.bytes === result.bytes ? { ...result, crc32: stored.crc32 } : result;
  } finally {
    for (const c of cleanups) c();
    // One invocation per run: whatever the runtime left running goes with it, in its group or not.
    const marked = proc?.end() ?? [];
    if (marked.length > 0)
      log.debug(`ended ${marked.length} process(es) of the run outside its group: ${marked.join(' ')}`);
    await api.close();
  }
}

function toResult(o: Outcome): { bytes: number } {
  if (o.kind === 'response') return { bytes: o.bytes };
  if (o.kind === 'result-not-stored') throw new PayloadIOError(`cannot store the result: ${o.message}`);
  if (o.kind === 'runtime-lost') throw new FunctionError('Runtime.ExitError', o.reason);
  if (o.kind === 'event-not-read') throw new PayloadIOError(`cannot read the payload: ${o.message}`);
  if (o.errorType === 'Runtime.UnmarshalError')
    throw new InvalidPayloadError(unmarshalMessage(o.errorMessage));
  throw new FunctionError(o.errorType, o.errorMessage);
}

/**
 * The runtime's words for an event it could not parse, without any quoted payload text (some JSON parsers
 * quote the input around the fault; that must not reach a log line above debug).
 */
export function unmarshalMessage(clientMessage: string): string {
  const detail = clientMessage.replace(/^Unable to unmarshal input:\s*/, '');
  const safe = !/["'`]/.test(detail) && detail.length <= 300;
  return `the payload is not JSON${safe && detail ? `: ${detail}` : ' (the runtime could not parse it)'}`;
}
