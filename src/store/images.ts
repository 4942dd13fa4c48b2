import type { Db } from './db.js';
import { getImage, type ImageRow } from './fleet.js';

/**
 * The image a project may put on its phones (reset, restart, a bought or changed server), or
 * undefined: every rule of which images a project may use is here.
 */
export async function usableImage(db: Db, _projectId: string, imageId: string): Promise<ImageRow | undefined> {
  return getImage(db, imageId);
}
