import { Errors, invalidParameter } from '../../domain/errors.js';
import type { FleetEffects, Phone } from '../../domain/fleet.js';
import { PhoneStatus, ServerStatus, phoneStatusName, serverStatusName } from '../../domain/status.js';
import type { DriverJob, DriverOutcome } from '../driver.js';
import type { SimHandler } from './handlers.js';

/**
 * A data volume is grown, and a phone's traffic routed, while the phone is running or stopped: both
 * change its disk or network from outside it. A phone in any other state (frozen, mid-operation,
 * failed) cannot take them, as it could not take a restart.
 */
const SETTLED: readonly number[] = [PhoneStatus.Running, PhoneStatus.Stopped];

const failure = (entry: { code: string; message: string }, detail: string): DriverOutcome => ({ ok: false, errorCode: entry.code, errorMsg: `${entry.message} ${detail}` });

/** The phone the job acts on when it may: undefined with the failure that says why not. */
function phoneFor(job: DriverJob, verb: string): { phone: Phone; failed?: undefined } | { phone?: undefined; failed: DriverOutcome } {
  const { phone, server } = job;
  if (!phone || !server) return { failed: failure(Errors.phoneNotFound, 'The phone no longer exists.') };
  if (server.status !== ServerStatus.Normal) {
    return { failed: failure(Errors.serverNotAvailable, `Server ${server.serverId} is ${serverStatusName(server.status)} (status ${server.status}).`) };
  }
  if (!SETTLED.includes(phone.status)) {
    return { failed: failure(Errors.phoneNotAvailable, `Phone ${phone.phoneId} is ${phoneStatusName(phone.status)} (status ${phone.status}); it cannot ${verb}.`) };
  }
  return { phone };
}

const done = (effects: FleetEffects): DriverOutcome => ({ ok: true, effects });

/** The volume grows to `newSize` GiB; the same size is a success that changes nothing, a smaller one fails (CPS.0932). */
const expandVolume: SimHandler = async (job, ctx, env) => {
  const { phone, failed } = phoneFor(job, 'have its data volume expanded');
  if (failed) return failed;
  const newSize = job.params.newSize;
  if (typeof newSize !== 'number') return failure(invalidParameter('new_size'), 'It is missing.');
  // Checked again here: a job queued earlier on the phone may have grown the volume since the call.
  if (newSize < phone.volumeSize) return failure(Errors.volumeSizeTooSmall, `Phone ${phone.phoneId} has ${phone.volumeSize} GiB; new_size ${newSize} is smaller.`);
  if (newSize === phone.volumeSize) return done({});
  await env.work(ctx, 2);
  return done({ phones: [{ phoneId: phone.phoneId, volumeSize: newSize }] });
};

/** The phone's traffic goes out directly or through its server's encode container. */
const importTraffic: SimHandler = async (job, ctx, env) => {
  const { phone, failed } = phoneFor(job, 'have its traffic routed');
  if (failed) return failed;
  const trafficType = job.params.trafficType;
  if (trafficType !== 'direct' && trafficType !== 'routing') return failure(invalidParameter('traffic_type'), 'It must be direct or routing.');
  await env.work(ctx, 1);
  return done({ phones: [{ phoneId: phone.phoneId, trafficType }] });
};

export const PHONE_EXTRA_HANDLERS: Readonly<Record<string, SimHandler>> = {
  'phone.expand-volume': expandVolume,
  'phone.import-traffic': importTraffic,
};
