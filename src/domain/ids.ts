import { randomBytes } from 'node:crypto';

/** Every id OpenCPH mints (request, job, phone, server, project) is 32 lowercase hex chars, as CPH's are. */
export type IdGenerator = () => string;

/** Random bytes are drawn in blocks: one system call per 4096 ids rather than one per id. */
const BLOCK = 16 * 4096;
let pool = Buffer.alloc(0);
let used = BLOCK;

export const newId: IdGenerator = () => {
  if (used === BLOCK) {
    pool = randomBytes(BLOCK);
    used = 0;
  }
  used += 16;
  return pool.toString('hex', used - 16, used);
};

/** CPH caps phone/server/image ids at 32 bytes; anything outside this shape can never name a resource. */
const RESOURCE_ID = /^[A-Za-z0-9_-]{1,32}$/;

export function isResourceId(value: unknown): value is string {
  return typeof value === 'string' && RESOURCE_ID.test(value);
}

/** Request and job ids are minted by us and always 32 hex chars; other shapes are malformed, not unknown. */
const MINTED_ID = /^[0-9a-f]{32}$/;

export function isMintedId(value: unknown): value is string {
  return typeof value === 'string' && MINTED_ID.test(value);
}
