import { Errors } from '../../domain/errors.js';
import { EncodeServerStatus, encodeServerStatusName } from '../../domain/status.js';
import { timeLimitReached, type DriverOutcome } from '../driver.js';
import { timedOutOutcome } from '../outcome.js';
import type { SimHandler } from './handlers.js';

/** Base delays an encode-server restart takes. */
const RESTART_WEIGHT = 4;

/**
 * Encode servers a restart may start from: running, abnormal, or restarting (left so by a restart that
 * was interrupted: jobs on one encode server run one at a time). One still being created may not.
 */
const RESTARTABLE: readonly number[] = [EncodeServerStatus.Running, EncodeServerStatus.Abnormal, EncodeServerStatus.Restarting];

/** An encode server restarts: 3 (restarting) while it works, then 1 (running); cut off by its time limit, 2 (abnormal). */
const restartEncodeServer: SimHandler = async (job, ctx, env): Promise<DriverOutcome> => {
  const target = job.encodeServer;
  if (!target) return { ok: false, errorCode: Errors.batchInvalidEncodeServerId.code, errorMsg: `${Errors.batchInvalidEncodeServerId.message} The encode server no longer exists.` };
  const id = target.encodeServerId;
  if (!RESTARTABLE.includes(target.status)) {
    return {
      ok: false,
      errorCode: Errors.encodeServerNotAvailable.code,
      errorMsg: `${Errors.encodeServerNotAvailable.message} Encode server ${id} is ${encodeServerStatusName(target.status)} (status ${target.status}); it cannot restart.`,
    };
  }
  try {
    await env.work(ctx, RESTART_WEIGHT, { encodeServers: [{ encodeServerId: id, status: EncodeServerStatus.Restarting }] });
  } catch (err) {
    const limit = timeLimitReached(ctx.signal);
    if (!limit) throw err;
    return { ...timedOutOutcome(limit.limitMs), effects: { encodeServers: [{ encodeServerId: id, status: EncodeServerStatus.Abnormal }] } };
  }
  return { ok: true, effects: { encodeServers: [{ encodeServerId: id, status: EncodeServerStatus.Running }] } };
};

export const ENCODE_SERVER_HANDLERS: Readonly<Record<string, SimHandler>> = {
  'encode-server.restart': restartEncodeServer,
};
