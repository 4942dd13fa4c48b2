/** Limits of the CPH contract (cph-api.md), in one place. */
export const Limits = {
  listJobs: { maxRequestIds: 20, limitMin: 1, limitMax: 100, limitDefault: 100 },
  listPhones: { limitMin: 1, limitMax: 200, limitDefault: 100 },
  listServers: { limitMin: 1, limitMax: 100, limitDefault: 100 },
  executeMsgBytes: 1024,
  resourceIdBytes: 32,
  nameChars: 60,
  restartServerIds: { min: 1, max: 100 },
  /** Batch bodies: CPH documents no cap on phone lists; 1000 keeps one transaction bounded. */
  batchTargetsMax: 1000,
  propertyBytes: 2048,
  /** BatchShowPhoneConnectInfos phones per call; ImportTraffic phones per call (cph-api.md §3.1). */
  connectionPhones: 10,
  trafficPhones: 100,
  /** A phone's data volume, GiB: new_size stays under this (cph-api.md §3.1). */
  volumeSizeMax: 32768,
  /** /phones/commands `content` (cph-api.md §3.2). */
  commandContentBytes: 1024,
  installMultipleContentBytes: 8100,
  installMultipleApks: 50,
  /** /phones/sync-commands: phones per call, time per phone, per call, and calls per minute per project. */
  syncCommands: { maxPhones: 15, perPhoneMs: 2_000, perCallMs: 30_000, callsPerWindow: 6, windowMs: 60_000 },
  /** Largest JSON body accepted (install-multiple content is 8100 bytes; 1000 batch targets fit). */
  bodyBytes: 1024 * 1024,
  /**
   * Consecutive failures that lock an access key (signatures) or a user (passwords), and for how
   * long: the gateway's rule for access keys (cph-api.md §6.2), kept for logins too.
   */
  lockout: { afterFailures: 5, lockMs: 5 * 60_000 },
  /**
   * Tags of servers (cph-api.md §3.10): key and value lengths in Unicode characters; at most
   * `perResource` tags on one server (Huawei's usual cap, CPH documents none); a filter of
   * ListResourceInstances names at most `filterKeys` keys of `filterValues` values each.
   */
  tags: {
    keyChars: 127,
    valueChars: 255,
    perResource: 20,
    filterKeys: 10,
    filterValues: 10,
    projectTags: { limitMax: 100, limitDefault: 100 },
    instances: { limitMax: 1000, limitDefault: 1000 },
  },
} as const;

/**
 * What each kind of job may take before it fails with CPS.0904 (ms; a node sets them with
 * --shell-time-limit and the like). `operation`: restarts, resets, stops, property updates and
 * server restarts. A sync command gets the smaller of its 2 s and the shell limit.
 */
export const TIME_LIMIT_KINDS = ['shell', 'install', 'push', 'uninstall', 'operation'] as const;
export type TimeLimitKind = (typeof TIME_LIMIT_KINDS)[number];
export type TimeLimits = Readonly<Record<TimeLimitKind, number>>;

export const DEFAULT_TIME_LIMITS: TimeLimits = { shell: 60_000, install: 300_000, push: 300_000, uninstall: 60_000, operation: 600_000 };

/** The longest delay a Node.js timer takes (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
