// lambda-batch's settings from the environment, read here and nowhere else; a flag wins over its variable.
import { regionFromEnv } from '../lib/aws-config.js';
import { type Env, envString } from '../lib/env.js';
import type { Invocation } from './args.js';

/** The dispatcher's name when --dispatcher gives none (the helper reads the same variable). */
export const DISPATCHER_VARIABLE = 'BATCH_DISPATCHER_FUNCTION';

export interface OpsConfig {
  /** the region every client is made for; undefined leaves it to the SDK's chain (a profile's) */
  region: string | undefined;
  dispatcher: string | undefined;
  /** where the dispatcher keeps payloads and records, when the environment says */
  bucket: string | undefined;
  prefix: string | undefined;
}

export function readConfig(inv: Invocation, env: Env): OpsConfig {
  return {
    region: inv.region ?? inv.job?.region ?? regionFromEnv(env),
    dispatcher: inv.dispatcher ?? envString(env, DISPATCHER_VARIABLE),
    bucket: inv.bucket ?? envString(env, 'PAYLOAD_BUCKET') ?? envString(env, 'CIRRUS_PAYLOAD_BUCKET'),
    prefix: inv.prefix ?? envString(env, 'PAYLOAD_PREFIX'),
  };
}
