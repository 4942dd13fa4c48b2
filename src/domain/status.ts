/** Job status on the wire. CPH has no "queued": a job waiting for its turn is already 1. */
export const JobStatus = { Running: 1, Success: 2, Failure: -1 } as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** Where a job is inside the engine; the wire only sees JobStatus. */
export type JobState = 'pending' | 'running' | 'done';

export const PhoneStatus = {
  Creating: 1,
  Running: 2,
  Resetting: 3,
  Restarting: 4,
  Frozen: 6,
  Stopping: 7,
  Stopped: 8,
  ResetFailed: -5,
  RestartFailed: -6,
  Abnormal: -7,
  CreateFailed: -8,
  StopFailed: -9,
} as const;
export type PhoneStatus = (typeof PhoneStatus)[keyof typeof PhoneStatus];
export const PHONE_STATUSES: readonly number[] = Object.values(PhoneStatus);

export const ServerStatus = {
  Creating: 1,
  Abnormal: 2,
  Normal: 5,
  Frozen: 8,
  ShutDown: 10,
  ShuttingDown: 11,
  ShutdownFailed: 12,
  Starting: 13,
} as const;
export type ServerStatus = (typeof ServerStatus)[keyof typeof ServerStatus];
export const SERVER_STATUSES: readonly number[] = [0, 1, 2, 3, 4, 5, 8, 10, 11, 12, 13];

const PHONE_STATUS_NAMES: Record<number, string> = {
  1: 'creating',
  2: 'running',
  3: 'resetting',
  4: 'restarting',
  6: 'frozen',
  7: 'stopping',
  8: 'stopped',
  [-5]: 'reset failed',
  [-6]: 'restart failed',
  [-7]: 'abnormal',
  [-8]: 'creation failed',
  [-9]: 'stop failed',
};

export function phoneStatusName(status: number): string {
  return PHONE_STATUS_NAMES[status] ?? 'unknown';
}

const SERVER_STATUS_NAMES: Record<number, string> = {
  0: 'creating',
  1: 'creating',
  2: 'abnormal',
  3: 'creating',
  4: 'creating',
  5: 'normal',
  8: 'frozen',
  10: 'shut down',
  11: 'shutting down',
  12: 'shutdown failed',
  13: 'starting',
};

/** A job's status in words: 1 running (waiting included), 2 succeeded, -1 failed. */
export function jobStatusName(status: number): string {
  return status === JobStatus.Success ? 'succeeded' : status === JobStatus.Failure ? 'failed' : 'running';
}

export function serverStatusName(status: number): string {
  return SERVER_STATUS_NAMES[status] ?? 'unknown';
}

/**
 * Encode-server status as EncodeServer.status shows it (cph-api.md §4.5, the model's values). The
 * ListEncodeServers `status` filter uses other values (§9 item 8): see encodeServerStatusesFor.
 */
export const EncodeServerStatus = { Creating: 0, Running: 1, Abnormal: 2, Restarting: 3 } as const;
export type EncodeServerStatus = (typeof EncodeServerStatus)[keyof typeof EncodeServerStatus];

/**
 * The query's values (1 running, 2 abnormal, 3 restarting, 4 frozen, 5 shut down, 100/1014/0
 * creating) mapped to the model's (1, 2, 3, and 0/4/5 creating). Frozen and shut down have no model
 * value: OpenCPH's encode servers are never in them, so those filters match nothing.
 */
const ENCODE_SERVER_QUERY: Record<number, readonly number[]> = {
  1: [1],
  2: [2],
  3: [3],
  4: [],
  5: [],
  0: [0, 4, 5],
  100: [0, 4, 5],
  1014: [0, 4, 5],
};

/** Model statuses a query `status` matches; undefined when the query value is not one CPH defines. */
export function encodeServerStatusesFor(queryStatus: number): readonly number[] | undefined {
  return ENCODE_SERVER_QUERY[queryStatus];
}

/** Model encode-server status in words, for messages. */
export function encodeServerStatusName(status: number): string {
  return { 0: 'creating', 1: 'running', 2: 'abnormal', 3: 'restarting', 4: 'creating', 5: 'creating' }[status] ?? 'unknown';
}
