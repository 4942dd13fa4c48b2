import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { ObsRef } from '../domain/commands.js';

/**
 * OBS as a local folder: `obs://bucket/path/to/file` is `<obsDir>/bucket/path/to/file`.
 * Returns the file's path, or undefined when there is no such regular file.
 */
export async function findObject(obsDir: string, ref: ObsRef): Promise<string | undefined> {
  const bucketDir = resolve(obsDir, ref.bucket);
  const file = resolve(join(bucketDir, ...ref.key.split('/')));
  // Keys are checked at the API edge; this keeps any key inside its bucket regardless.
  if (!file.startsWith(bucketDir + sep)) return undefined;
  try {
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}
