// An HTTP front for moto: passes every request through, records it, serves Lambda code bytes, injects faults.
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EcsDefinitions, type EcsProperties } from './front-batch-ecs.js';
import { BatchJobs } from './front-batch-jobs.js';
import { type CodeFaultHandle, type CodeFaultMode, CodeStore, sendAnswer } from './front-code.js';
import { errorAnswer, type FaultHandle, type FaultSpec, Faults } from './front-faults.js';
import { type InvokeHandler, invokePathRef, parseFunctionRef, runInvoke } from './front-invoke.js';
import {
  type ConfigurationPatches,
  keepUploadedCode,
  rewriteCodeLocation,
  upstreamUrl,
} from './front-lambda.js';
import {
  buffersBody,
  guessOperation,
  guessService,
  parseJson,
  type RecordedRequest,
  type Service,
} from './front-log.js';

export type { EcsContainer, EcsProperties } from './front-batch-ecs.js';
export type { AttemptRun, BatchJobs, ContainerRun } from './front-batch-jobs.js';
export type { CodeFaultHandle, CodeFaultMode } from './front-code.js';
export type { FaultHandle, FaultKind, FaultSpec } from './front-faults.js';
export type { InvokeContext, InvokeHandler } from './front-invoke.js';
export type { RecordedRequest, Service } from './front-log.js';

export interface Front {
  /** e.g. http://127.0.0.1:40123 — give this to clients as their AWS endpoint */
  endpoint: string;
  port: number;
  /** every request so far, in arrival order (live array) */
  readonly requests: RecordedRequest[];
  find(pred: (r: RecordedRequest) => boolean): RecordedRequest | undefined;
  filter(pred: (r: RecordedRequest) => boolean): RecordedRequest[];
  /** requests of one service and (optionally) operation, e.g. `front.calls('batch', 'SubmitJob')` */
  calls(service: Service, operation?: string): RecordedRequest[];
  /** the code downloads (GET /code/…) so far */
  downloads(): RecordedRequest[];
  /** forgets the recorded requests (faults and code stay) */
  clear(): void;
  /** injects a fault into matching requests until `times` is used up or the handle is removed */
  fault(spec: FaultSpec): FaultHandle;
  /** makes code downloads of one function (name) or layer (name or name:version) misbehave */
  codeFault(target: string, mode: CodeFaultMode): CodeFaultHandle;
  /** removes every fault and code fault */
  clearFaults(): void;
  /** keeps zip bytes so a Code.Location for their SHA-256 serves them; returns the hex digest */
  registerCode(bytes: Buffer): string;
  /**
   * adds `fields` to the Configuration of every GetFunction answer for `functionName`: settings moto does not
   * keep (LoggingConfig, DurableConfig, TenancyConfig, CapacityProviderConfig)
   */
  patchConfiguration(functionName: string, fields: Record<string, unknown>): void;
  /** answers Invoke of `functionName` (any qualifier) with `handler` instead of moto */
  serveInvoke(functionName: string, handler: InvokeHandler): { remove(): void };
  /** the ecsProperties of a job definition registered through the front (moto keeps a stand-in; front-batch-ecs.ts) */
  ecsDefinition(arn: string): EcsProperties | undefined;
  /** jobs as the executor ran them, which DescribeJobs through the front answers with (front-batch-jobs.ts) */
  batchJobs: BatchJobs;
  stop(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** Sends headers and the first part of `body`, then destroys the socket (a connection lost mid-body). */
function dropMidBody(
  res: ServerResponse,
  a: { status: number; headers: Record<string, string>; body: Buffer },
  afterBytes?: number,
): void {
  if (a.body.length < 2) {
    res.socket?.destroy();
    return;
  }
  const n = Math.min(afterBytes ?? Math.floor(a.body.length / 2), a.body.length - 1);
  res.writeHead(a.status, { ...a.headers, 'content-length': String(a.body.length) });
  res.write(a.body.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 10));
}

/** Sends headers and the first `afterBytes` of `body`, then nothing more: a stalled answer. */
function stallMidBody(
  res: ServerResponse,
  a: { status: number; headers: Record<string, string>; body: Buffer },
  afterBytes: number,
): void {
  res.writeHead(a.status, { ...a.headers, 'content-length': String(a.body.length) });
  res.write(a.body.subarray(0, Math.min(afterBytes, Math.max(0, a.body.length - 1))));
}

/**
 * Starts the front on 127.0.0.1 (free port) in front of the moto at `upstream` (e.g. http://127.0.0.1:5000).
 * @example
 *   const front = await startFront(moto.endpoint);
 *   const h = front.fault({ match: (r) => r.operation === 'GetObject', times: 2, kind: 'error', status: 503 });
 *   // … run the code under test with AWS_ENDPOINT_URL=front.endpoint …
 *   assert.equal(h.hits, 2);
 */
export async function startFront(upstream: string): Promise<Front> {
  const up = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const requests: RecordedRequest[] = [];
  const code = new CodeStore();
  const faults = new Faults();
  const invokers = new Map<string, InvokeHandler>();
  const patches: ConfigurationPatches = new Map();
  const ecs = new EcsDefinitions();
  const jobs = new BatchJobs(ecs);
  let seq = 0;
  let endpoint = '';

  /** Passes the request to moto; `body` is the buffered request body, or undefined to stream `req`. */
  function proxy(req: IncomingMessage, path: string, body: Buffer | undefined): Promise<IncomingMessage> {
    const headers = { ...req.headers };
    // We answer 100-continue ourselves (node's default) and stream the body straight on.
    delete headers.expect;
    if (body) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      const out = request(
        { host: up.hostname, port: up.port, method: req.method, path, headers, agent },
        resolve,
      );
      out.on('error', reject);
      if (body) out.end(body);
      else req.pipe(out);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://front');
    const path = decodePath(url.pathname);
    const isCode = path.startsWith('/code/');
    const service: Service = isCode ? 'code' : guessService(path, req.headers, url.searchParams);
    const raw = isCode || buffersBody(service) ? await readAll(req) : undefined;
    const rec: RecordedRequest = {
      seq: ++seq,
      time: Date.now(),
      method: req.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: req.headers,
      service,
      operation: isCode
        ? 'Download'
        : guessOperation(service, req.method ?? 'GET', path, url.searchParams, req.headers, raw),
    };
    if (raw && (service === 'lambda' || service === 'batch') && rec.operation !== 'Invoke') {
      rec.body = parseJson(raw);
    }
    if (isCode) {
      const issued = code.lookup(url.searchParams);
      rec.code = { sha256: path.slice('/code/'.length), target: issued?.target ?? '', bytes: 0 };
    }
    requests.push(rec);
    res.on('finish', () => {
      rec.status = res.statusCode;
    });

    const { latencyMs, fault } = faults.take(rec);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    if (fault?.kind === 'error') {
      rec.fault = `error ${fault.status ?? 500}`;
      sendAnswer(req, res, errorAnswer(service, fault));
      return;
    }
    if (fault?.kind === 'stall' && fault.afterBytes === undefined) {
      // Read the request (so the client finishes sending) and never answer.
      rec.fault = 'stall';
      if (!raw) req.resume();
      return;
    }
    if (fault) rec.fault = fault.kind;

    let upstreamBody = raw;
    if (service === 'batch') {
      const pre = ecs.before(rec.operation, rec.body as Record<string, unknown> | undefined);
      if (pre && 'refuse' in pre) {
        sendAnswer(
          req,
          res,
          errorAnswer('batch', { status: 400, code: 'ClientException', message: pre.refuse }),
        );
        return;
      }
      if (pre) upstreamBody = pre.forward;
      jobs.before(rec.operation, rec.body as Record<string, unknown> | undefined);
    }

    let answer: { status: number; headers: Record<string, string>; body: Buffer } | undefined;
    if (isCode) {
      answer = code.answer(url.searchParams, req.headers.range);
      if (rec.code && answer.status < 300) rec.code.bytes = answer.body.length;
    } else {
      const ref = rec.operation === 'Invoke' ? invokePathRef(path) : undefined;
      const target = ref ? parseFunctionRef(ref, url.searchParams.get('Qualifier')) : undefined;
      const handler = target && invokers.get(target.name);
      if (target && handler) {
        rec.body = parseJson(raw ?? Buffer.alloc(0));
        answer = await runInvoke(handler, target, req.headers, raw ?? Buffer.alloc(0));
      }
    }
    if (!answer) {
      if (service === 'lambda' && raw) await keepUploadedCode(rec, code, upstream);
      const upRes = await proxy(req, upstreamUrl(rec, req.url ?? '/'), upstreamBody);
      const rewrite = service === 'lambda' && (upRes.statusCode ?? 500) < 300 && rewritable(rec.operation);
      // Batch answers are small; keeping them lets tests tie a SubmitJob request to its jobId.
      const keep = service === 'batch';
      if (!rewrite && !fault && !keep) {
        res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders);
        upRes.pipe(res);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (typeof v === 'string') headers[k] = v;
      delete headers['transfer-encoding'];
      let body = await readAll(upRes);
      if (rewrite) body = rewriteCodeLocation(body, code, endpoint, patches);
      if (keep) {
        const request = rec.body as Record<string, unknown> | undefined;
        const status = upRes.statusCode ?? 502;
        body = jobs.after(rec.operation, request, ecs.after(rec.operation, request, body, status), status);
        rec.response = parseJson(body);
      }
      answer = { status: upRes.statusCode ?? 502, headers, body };
    }
    if (fault?.kind === 'drop') dropMidBody(res, answer, fault.afterBytes);
    else if (fault?.kind === 'stall') stallMidBody(res, answer, fault.afterBytes ?? 0);
    else sendAnswer(req, res, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (res.headersSent) res.socket?.destroy();
      else sendAnswer(req, res, errorAnswer('s3', { status: 502, code: 'FrontError', message: err.message }));
    });
  });
  server.keepAliveTimeout = 1000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://127.0.0.1:${port}`;

  const filter = (pred: (r: RecordedRequest) => boolean) => requests.filter(pred);
  return {
    endpoint,
    port,
    requests,
    find: (pred) => requests.find(pred),
    filter,
    calls: (service, operation) =>
      filter((r) => r.service === service && (operation === undefined || r.operation === operation)),
    downloads: () => filter((r) => r.service === 'code'),
    clear: () => {
      requests.length = 0;
    },
    fault: (spec) => faults.add(spec),
    codeFault: (target, mode) => code.fault(target, mode),
    clearFaults: () => {
      faults.clear();
      code.clearFaults();
    },
    registerCode: (bytes) => code.register(bytes),
    patchConfiguration(functionName, fields) {
      patches.set(functionName, { ...patches.get(functionName), ...fields });
    },
    serveInvoke(functionName, handler) {
      invokers.set(functionName, handler);
      return {
        remove: () => {
          if (invokers.get(functionName) === handler) invokers.delete(functionName);
        },
      };
    },
    ecsDefinition: (arn) => ecs.get(arn),
    batchJobs: jobs,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}

function rewritable(operation: string): boolean {
  return (
    operation === 'GetFunction' || operation === 'GetLayerVersion' || operation === 'GetLayerVersionByArn'
  );
}
