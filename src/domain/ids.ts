import { randomBytes } from 'node:crypto';

/** Every id OpenCPH mints (request, job, phone, server, project) is 32 lowercase hex chars, as CPH's are. */
export type IdGenerator = () => string;

/** Random bytes are drawn in blocks: one system call per 6,553 ids rather than one per id. */
const RANDOM_BYTES = 10;
const BLOCK = RANDOM_BYTES * 6553;
let pool = Buffer.alloc(0);
let used = BLOCK;

/**
 * The time in milliseconds (12 hex digits) and then 80 random bits (20). Ids minted later sort
 * later, so the indexes over them (job_id, request_id, phone_id…) take each new id at their end
 * instead of at a random leaf: a batch of 100 jobs dirtied about a hundred pages of the job_id
 * index, and on a store of a million jobs each was a page that had to be read in first.
 * Ids minted in one millisecond are not ordered among themselves; nothing relies on that.
 */
export const newId: IdGenerator = () => idAt(Date.now());

/** An id as if minted at `ms` (epoch milliseconds): how stores seeded with past work are given theirs. */
export function idAt(ms: number): string {
  if (used === BLOCK) {
    pool = randomBytes(BLOCK);
    used = 0;
  }
  used += RANDOM_BYTES;
  return ms.toString(16).padStart(12, '0') + pool.toString('hex', used - RANDOM_BYTES, used);
}

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

/**
 * The names in CPH's paths are lowercase words joined by '-' or '_' (batch-restart, share-files,
 * resource_instances, cph-server); ids are hex strings or UUIDs (32 to 36 characters, with digits).
 */
const API_NAME = /^[a-z]+(?:[-_][a-z]+)*$/;
const ID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether a path segment may be an id of some resource, not the name of an API: the characters and
 * length of an id (up to 64, room for any id CPH or a VPC mints), and not shaped like an API name.
 * The error handler asks this to tell a wrong method on a resource (405) from a call to an API
 * that does not exist (404).
 */
export function mayBeId(segment: string): boolean {
  return ID_SHAPE.test(segment) && !API_NAME.test(segment);
}
