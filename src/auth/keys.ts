import { createSecretKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../domain/time.js';
import type { SigningKey } from '../store/identity.js';

/**
 * How long a node goes by its copy of an access key (its user, their projects, its lock) before
 * reading it again. Every signed call needs the key, and reading it was a fifth of a ListJobs; a key
 * or user disabled from the admin command or another node is refused within this time.
 */
export const KEY_CACHE_MS = 1000;

/** At most this many keys are kept; past it the copies are dropped and read again as needed. */
const MAX_KEYS = 10_000;

/** A key as the verifier keeps it: the stored key and the HMAC key object made from its secret once. */
export interface CachedKey {
  key: SigningKey;
  hmacKey: KeyObject;
  projects: ReadonlySet<string>;
}

/**
 * Access keys read through `load` and kept for `ttlMs` by `clock`. Only keys that exist are kept,
 * so a key created a moment ago works at once. The verifier forgets a key whose state it changes
 * (a signature failure counted, a count cleared), so its next call reads it again.
 */
export class KeyCache {
  private readonly entries = new Map<string, { at: number; value: CachedKey }>();
  /** Counts forget() calls: a read that a forget overtook is used but not kept (it may predate the change). */
  private forgets = 0;

  constructor(
    private readonly load: (accessKey: string) => Promise<SigningKey | undefined>,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly ttlMs = KEY_CACHE_MS,
  ) {}

  async get(accessKey: string): Promise<CachedKey | undefined> {
    const now = this.clock.now();
    const hit = this.entries.get(accessKey);
    // A clock that goes back (a test's, or a corrected system clock) also makes a copy stale.
    if (hit && now - hit.at < this.ttlMs && now >= hit.at) return hit.value;
    const forgets = this.forgets;
    const key = await this.load(accessKey);
    if (!key) {
      this.entries.delete(accessKey);
      return undefined;
    }
    const value = { key, hmacKey: createSecretKey(Buffer.from(key.secret_key, 'utf8')), projects: new Set(key.projectIds) };
    if (forgets === this.forgets) {
      if (this.entries.size >= MAX_KEYS) this.entries.clear();
      this.entries.set(accessKey, { at: now, value });
    }
    return value;
  }

  forget(accessKey: string): void {
    this.forgets++;
    this.entries.delete(accessKey);
  }
}
