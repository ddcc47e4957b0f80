// The Docker engine, for the image tests and the image build: is one answering, and run the docker CLI.
import { spawn, spawnSync } from 'node:child_process';
import { collectOutput } from '../support/process.js';
import { readPrepared } from './prepared.js';

export interface DockerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** True when a Docker engine answers (the CLI alone is not enough). */
export function engineAnswers(): boolean {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** Why the image tests are skipped here, or undefined when they run (npm test decided it once, before the files). */
export function skipReason(): string | undefined {
  const prepared = readPrepared();
  if (prepared) return 'skip' in prepared ? prepared.skip : undefined;
  if (process.env.RUN_LAMBDA_SKIP_IMAGE_TESTS === '1') return 'RUN_LAMBDA_SKIP_IMAGE_TESTS=1';
  if (spawnSync('docker', ['--version']).status !== 0) return 'no docker command on this machine';
  if (!engineAnswers()) return 'no Docker engine answers (scripts/docker-setup.sh starts one)';
  return undefined;
}

export interface DockerOptions {
  input?: string | Buffer;
  /** stream the CLI's output to this process's stderr as well (long builds) */
  echo?: boolean;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs `docker <args>` and resolves with its exit and output (never rejects on a non-zero exit). */
export function docker(args: string[], opts: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out = collectOutput(child, opts.echo);
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...out });
    });
    child.stdin.end(opts.input);
  });
}

/** `docker <args>` that must succeed; the error carries the command and the tail of its output. */
export async function dockerOk(args: string[], opts: DockerOptions = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`docker ${args.join(' ')} exited with code ${r.code}:\n${tail}`);
  }
  return r.stdout;
}

export async function imageExists(tag: string): Promise<boolean> {
  return (await docker(['image', 'inspect', '--format', '{{.Id}}', tag])).code === 0;
}
