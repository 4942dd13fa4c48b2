import type { Logger } from 'pino';
import { Limits } from '../domain/limits.js';
import { formatUtc } from '../domain/time.js';
import type { Db } from '../store/db.js';
import { clearFailures, recordFailure } from '../store/identity.js';

/**
 * One lock-out rule for access keys (bad signatures) and users (wrong passwords): after
 * LOCK_AFTER_FAILURES consecutive failures the key or user is refused for LOCK_MS, whatever it
 * sends. The count lives on the key's or user's row, so every node on the store shares it.
 */
export const LOCK_AFTER_FAILURES = Limits.lockout.afterFailures;
export const LOCK_MS = Limits.lockout.lockMs;

/** Where lock-outs are logged: a node's logger, or a request's. */
export type LockLog = Pick<Logger, 'warn'>;

/** What can be locked, with what the log may say of it (never a secret, password or signature). */
export type LockTarget = { accessKey: string; user: string } | { userId: string; user: string; account: string };

export const isLocked = (row: { locked_until: number | null }, now: number): boolean => row.locked_until !== null && row.locked_until > now;

const where = (t: LockTarget) => ('accessKey' in t ? (['access_keys', t.accessKey] as const) : (['users', t.userId] as const));

/** Told of each lock-out as it is set (the node's metrics count them). */
export type OnLockout = (locked: 'access_key' | 'user') => void;

/** Count a failure; the one that sets a lock is logged at warn (and told to `onLockout`). */
export async function countFailure(deps: { db: Db; log: LockLog; onLockout?: OnLockout }, target: LockTarget, now: number): Promise<void> {
  const [table, id] = where(target);
  const lockedUntil = await recordFailure(deps.db, table, id, now, LOCK_AFTER_FAILURES, LOCK_MS);
  if (lockedUntil === undefined) return;
  const what = 'accessKey' in target ? 'access key' : 'user';
  deps.onLockout?.('accessKey' in target ? 'access_key' : 'user');
  deps.log.warn({ ...target, lockedUntil: formatUtc(lockedUntil) }, `${what} locked after ${LOCK_AFTER_FAILURES} consecutive failures`);
}

/** A success ends the run of failures. */
export async function clearFailureCount(db: Db, target: LockTarget): Promise<void> {
  const [table, id] = where(target);
  await clearFailures(db, table, id);
}
