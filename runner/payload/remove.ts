// Removes one of the run's own files in the work folder (an item's event or result) once it is done with.
import { unlink } from 'node:fs/promises';

/**
 * One unlink; a file that is not there (never written, or removed already) is no error. Not `rm(path, { force })`:
 * that checks its options and lstats the path before it unlinks, three calls where an item's file needs one.
 */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
