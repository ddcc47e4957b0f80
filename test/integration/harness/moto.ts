// Starts moto_server (the AWS emulator) on a leased 127.0.0.1 port for a test file, and stops it. It is tethered to
// the test file's process: a file the test runner kills (its timeout, a Ctrl-C) takes its moto_server with it.
// moto_server cannot be handed a socket, and on port 0 it would tell its own services (which build URLs back to
// themselves from MOTO_PORT) the wrong port, so it is given a port leased outside the kernel's ephemeral range
// (test/support/ports.ts): no process listening on port 0 can take it first. moto is used only once it has said
// itself that it listens there; should something outside the tests hold the port after all, moto exits saying so,
// and it is started again on another.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { leasePort, type PortLease } from '../../support/ports.js';
import { spawnTethered } from '../../support/tether.mjs';
import { missingTool, toolPath } from '../../support/tools.js';

export interface Moto {
  /** e.g. http://127.0.0.1:21234 */
  endpoint: string;
  port: number;
  /** moto_server's process id */
  pid: number;
  stop(): Promise<void>;
  /** Environment for a child process (runner, python) that should talk to this moto for every service. */
  env: Record<string, string>;
}

/** How long moto_server may take to import and bind (seconds under load). */
const START_MS = 60_000;
/** Starts on another port after this many ports turned out taken. */
const PORT_TRIES = 3;

/** moto_server could not bind its port: something else holds it. */
class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/** What moto_server (werkzeug) writes to stderr once its socket listens: " * Running on http://127.0.0.1:PORT". */
const runningOn = (port: number) => new RegExp(`Running on http://127\\.0\\.0\\.1:${port}\\b`);

function spawnMoto(port: number): { child: ChildProcess; stderr: () => string } {
  // From the PATH, or the project's .venv that npm test makes when the PATH has none (scripts/tools.mjs).
  const child = spawnTethered(toolPath('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_CALL_RESET_API: 'false' },
  });
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-8000);
  });
  return { child, stderr: () => text };
}

/**
 * Resolves once this moto_server says it listens on `port` (so the port is its own: no one else can answer there);
 * rejects when it exits first: PortTakenError when its port was in use.
 */
function listeningOn(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onData = () => {
      if (runningOn(port).test(stderr())) done();
    };
    const onExit = (code: number | null, signal: string | null) => {
      const said = stderr();
      const how = `moto_server exited with ${code !== null ? `code ${code}` : signal} before listening on ${port}`;
      done(/in use/i.test(said) ? new PortTakenError(`${how}\n${said}`) : new Error(`${how}\n${said}`));
    };
    const onError = (err: NodeJS.ErrnoException) =>
      done(err.code === 'ENOENT' ? new Error(missingTool('moto_server')) : err);
    const timer = setTimeout(
      () => done(new Error(`moto_server did not listen on ${port} within ${START_MS} ms\n${stderr()}`)),
      START_MS,
    );
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** moto_server on the leased port, listening and in "no docker" mode for Batch. */
async function startOn(lease: PortLease): Promise<Moto> {
  const { port } = lease;
  const endpoint = `http://127.0.0.1:${port}`;
  const { child, stderr } = spawnMoto(port);
  try {
    await listeningOn(port, child, stderr);
    const res = await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batch: { use_docker: false } }),
    });
    if (!res.ok) throw new Error(`moto config failed: ${res.status} ${await res.text()}`);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    endpoint,
    port,
    pid: child.pid as number,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    },
    async stop() {
      await stopChild(child);
      await lease.release();
    },
  };
}

/**
 * Starts moto_server, waits until it says it listens, switches Batch to "no docker" mode. `lease` hands out the
 * ports (a test can give a taken one first).
 */
export async function startMoto(lease: () => Promise<PortLease> = leasePort): Promise<Moto> {
  for (let attempt = 1; ; attempt++) {
    const leased = await lease();
    try {
      return await startOn(leased);
    } catch (err) {
      await leased.release();
      if (!(err instanceof PortTakenError) || attempt === PORT_TRIES) throw err;
    }
  }
}
