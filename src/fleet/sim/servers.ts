import { Errors } from '../../domain/errors.js';
import type { ServerChange } from '../../domain/fleet.js';
import { PhoneStatus, ServerStatus } from '../../domain/status.js';
import type { DriverOutcome } from '../driver.js';
import { SimPhone } from './android.js';
import type { SimHandler } from './handlers.js';

/** A simulated server's lifecycle: provisioning a bought one, deletion, change of physical server or model, key pair. */

const gone = (): DriverOutcome => ({ ok: false, errorCode: Errors.batchInvalidServerId.code, errorMsg: `${Errors.batchInvalidServerId.message} The server no longer exists.` });

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A bought server comes up (status 0 → 3 → 5) with all its phones (1 creating → 2 running). */
const createServer: SimHandler = async (job, ctx, env) => {
  const server = job.server;
  if (!server) return gone();
  const phones = job.serverPhones ?? [];
  await env.work(ctx, 10, { servers: [{ serverId: server.serverId, status: 3 }] });
  return {
    ok: true,
    effects: {
      servers: [{ serverId: server.serverId, status: ServerStatus.Normal }],
      phones: phones.filter((p) => p.status === PhoneStatus.Creating).map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Running })),
    },
  };
};

/** One job for all the servers of a DeleteCloudPhoneServer call: they shut down, then are gone. */
const deleteServer: SimHandler = async (job, ctx, env) => {
  const ids = Array.isArray(job.params.serverIds) ? (job.params.serverIds as string[]) : job.server ? [job.server.serverId] : [];
  await env.work(ctx, 4, { servers: ids.map((serverId) => ({ serverId, status: ServerStatus.ShuttingDown })) });
  return { ok: true, effects: { removedServers: ids } };
};

/**
 * ChangeCloudPhoneServer: a new physical server under the same id; its phones are made again (same
 * ids) with the new model and image, and what was on them is lost, as after a factory reset.
 */
const changeServer: SimHandler = async (job, ctx, env) => {
  const server = job.server;
  if (!server) return gone();
  const phones = job.serverPhones ?? [];
  await env.work(ctx, 10, {
    servers: [{ serverId: server.serverId, status: 3 }],
    phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Creating })),
  });
  for (const p of phones) await (await SimPhone.load(env.options.state, p, ctx.clock)).wipe();
  const change: ServerChange = {
    serverId: server.serverId,
    phoneModelName: str(job.params.phoneModelName),
    keypairName: str(job.params.keypairName),
    availabilityZone: str(job.params.availabilityZone),
  };
  if (typeof job.params.phoneVolumeSize === 'number') change.phoneVolumeSize = job.params.phoneVolumeSize;
  return {
    ok: true,
    effects: {
      servers: [{ serverId: server.serverId, status: ServerStatus.Normal }],
      phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Running, imageId: str(job.params.imageId), property: str(job.params.property) ?? '{}' })),
      serverChanges: [change],
    },
  };
};

/** ChangeCloudPhoneServerModel: the server restarts on its new model; its phones keep their data. */
const changeServerModel: SimHandler = async (job, ctx, env) => {
  const server = job.server;
  if (!server) return gone();
  const phones = job.serverPhones ?? [];
  await env.work(ctx, 8, {
    servers: [{ serverId: server.serverId, status: ServerStatus.Starting }],
    phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Restarting })),
  });
  return {
    ok: true,
    effects: {
      servers: [{ serverId: server.serverId, status: ServerStatus.Normal }],
      phones: phones.map((p) => ({ phoneId: p.phoneId, status: PhoneStatus.Running })),
      serverChanges: [{ serverId: server.serverId, serverModelName: str(job.params.serverModelName), phoneModelName: str(job.params.phoneModelName) }],
    },
  };
};

const updateKeypair: SimHandler = async (job, ctx, env) => {
  const server = job.server;
  if (!server) return gone();
  await env.work(ctx, 1);
  return { ok: true, effects: { serverChanges: [{ serverId: server.serverId, keypairName: str(job.params.keypairName) }] } };
};

export const SERVER_HANDLERS: Readonly<Record<string, SimHandler>> = {
  'server.create': createServer,
  'server.delete': deleteServer,
  'server.change': changeServer,
  'server.change-model': changeServerModel,
  'server.update-keypair': updateKeypair,
};
