// `sandbox.localdomain`: Lambda's name for the execution environment, which extensions give as their telemetry
// destination (`http://sandbox.localdomain:<port>`) and some bind their listeners to. Docker and ECS write the container's
// /etc/hosts when it starts (a name baked into the image's is lost) and Fargate takes no extra hosts, so in the images
// the runner adds the name itself at start, when a function has extensions and the file can be written (the images run
// as root). Elsewhere it leaves the system alone: telemetry for the name is delivered to 127.0.0.1 whatever it resolves
// to (telemetry/subscription.ts), but an extension that binds the name can fail there.
import { appendFile, readFile } from 'node:fs/promises';
import type { Env } from '../../lib/env.js';
import { envString } from '../../lib/env.js';
import type { Logger } from '../log.js';

export const SANDBOX_NAMES = ['sandbox.localdomain', 'sandbox'] as const;

/** True when `hosts` (an /etc/hosts text) maps sandbox.localdomain to an address. */
export function namesSandbox(hosts: string): boolean {
  return hosts
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .some((fields) => fields.length > 1 && fields.slice(1).includes(SANDBOX_NAMES[0]));
}

/**
 * Adds `127.0.0.1 sandbox.localdomain sandbox` to `hostsFile` when the run is in one of the images
 * (RUN_LAMBDA_IMAGE_RUNTIME) and the name is not there yet; says what it did.
 */
export async function ensureSandboxName(
  env: Env,
  log: Logger,
  hostsFile = '/etc/hosts',
): Promise<'present' | 'added' | 'left'> {
  const hosts = await readFile(hostsFile, 'utf8').catch(() => '');
  if (namesSandbox(hosts)) return 'present';
  if (!envString(env, 'RUN_LAMBDA_IMAGE_RUNTIME')) {
    log.debug(
      `${SANDBOX_NAMES[0]} is not in ${hostsFile}; telemetry for it goes to 127.0.0.1 (outside the images the runner leaves the file alone)`,
    );
    return 'left';
  }
  try {
    await appendFile(
      hostsFile,
      `${hosts === '' || hosts.endsWith('\n') ? '' : '\n'}127.0.0.1\t${SANDBOX_NAMES.join(' ')}\n`,
    );
    log.debug(`added ${SANDBOX_NAMES[0]} to ${hostsFile}`);
    return 'added';
  } catch (err) {
    log.warn(
      `cannot add ${SANDBOX_NAMES[0]} to ${hostsFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): telemetry for it goes to 127.0.0.1, but an extension that listens on that name may fail`,
    );
    return 'left';
  }
}
