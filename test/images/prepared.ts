// What `npm test` hands its test files about the images, built once before any file starts (scripts/test.mjs runs
// `test/images/images.ts --out <file>` and names the file in RUN_LAMBDA_TEST_IMAGES): the images ready, why the
// image tests are skipped here, or the error the build ended with. Both directions of that hand-off are here.
import { readFileSync, writeFileSync } from 'node:fs';
import type { BuiltImage } from './images.js';
import type { StandinSet } from './standins.js';

export const PREPARED_ENV = 'RUN_LAMBDA_TEST_IMAGES';

/** An ImageSet as data (what crosses the process boundary). */
export interface ImageSetData {
  standins: StandinSet;
  images: BuiltImage[];
  seconds: number;
  /** why no arm64 image was built (no emulator here), when none was */
  arm64Skip?: string;
}

export type Prepared = { ready: ImageSetData } | { skip: string } | { error: string };

export function writePrepared(file: string, prepared: Prepared): void {
  writeFileSync(file, `${JSON.stringify(prepared)}\n`);
}

/** What the run prepared, or undefined when no run did (a test file started on its own). */
export function readPrepared(env: NodeJS.ProcessEnv = process.env): Prepared | undefined {
  const file = env[PREPARED_ENV];
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Prepared;
  } catch (err) {
    return { error: `${PREPARED_ENV}=${file} cannot be read: ${(err as Error).message}` };
  }
}
