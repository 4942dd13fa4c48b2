import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { ObsRef } from '../domain/commands.js';

/**
 * OBS as a local folder: `obs://bucket/path/to/file` is `<obsDir>/bucket/path/to/file`.
 * Returns the file's path, or undefined when there is no such regular file.
 */
export async function findObject(obsDir: string, ref: ObsRef): Promise<string | undefined> {
  const file = objectFile(obsDir, ref);
  if (!file) return undefined;
  try {
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Where `obs://bucket/key` lives (whether or not it exists); undefined for a key that leaves its bucket. */
export function objectFile(obsDir: string, ref: ObsRef): string | undefined {
  const bucketDir = resolve(obsDir, ref.bucket);
  const file = resolve(join(bucketDir, ...ref.key.split('/')));
  // Keys are checked at the API edge; this keeps any key inside its bucket regardless.
  return file.startsWith(bucketDir + sep) ? file : undefined;
}
