import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { formatUtc } from '../domain/time.js';
import type { RouteDeps } from '../http/types.js';
import { PHONE_FAULT_STATUSES, SERVER_FAULT_STATUSES, clearFaults, listFaults, setPhoneStatus, setServerStatus, setStuckAdbSlots, type FaultedPhone, type FaultedServer } from '../store/faults.js';
import { controlSchema, type ProjectParams } from './schema.js';

/**
 * Faults (issue 19, part 4): put a phone or server of the project in a status from outside any job,
 * and back. The status is written as it is; the simulated driver then treats it as CPH would
 * (README "Testing your code against OpenCPH" → Faults, docs/decisions/0018-faults-are-statuses.md).
 */

interface FaultsBody {
  phones?: { phone_id: string; status: number }[];
  servers?: { server_id: string; status?: number; stuck_adb_slots?: number }[];
}

const MAX_ITEMS = 200;
/** More held slots than any server has: its adb jobs wait whatever --server-adb-concurrency says. */
const MAX_STUCK_SLOTS = 100;
const id = { type: 'string', minLength: 1, maxLength: 64 } as const;

const faultsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    phones: {
      type: 'array',
      maxItems: MAX_ITEMS,
      items: { type: 'object', additionalProperties: false, required: ['phone_id', 'status'], properties: { phone_id: id, status: { type: 'integer', enum: [...PHONE_FAULT_STATUSES] } } },
    },
    servers: {
      type: 'array',
      maxItems: MAX_ITEMS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['server_id'],
        properties: { server_id: id, status: { type: 'integer', enum: [...SERVER_FAULT_STATUSES] }, stuck_adb_slots: { type: 'integer', minimum: 0, maximum: MAX_STUCK_SLOTS } },
      },
    },
  },
} as const;

/** One item of an answer: the status it now has, or why it was not set. */
const item = (key: 'phone_id' | 'server_id', withServer = false) =>
  ({
    type: 'object',
    required: [key],
    properties: {
      [key]: { type: 'string' },
      ...(withServer ? { server_id: { type: 'string' } } : {}),
      status: { type: 'integer' },
      stuck_adb_slots: { type: 'integer' },
      update_time: { type: 'string' },
      error_code: { type: 'string' },
      error_msg: { type: 'string' },
    },
  }) as const;

const faultsResponse = {
  type: 'object',
  required: ['request_id', 'phones', 'servers'],
  properties: { request_id: { type: 'string' }, phones: { type: 'array', items: item('phone_id', true) }, servers: { type: 'array', items: item('server_id') } },
} as const;

const wirePhone = (p: FaultedPhone) => ({ phone_id: p.phone_id, server_id: p.server_id, status: p.status, update_time: formatUtc(p.update_time) });
const wireServer = (s: FaultedServer) => ({ server_id: s.server_id, status: s.status, stuck_adb_slots: s.stuck_adb_slots, update_time: formatUtc(s.update_time) });

export async function faultRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const now = () => engine.deps.clock.now();

  app.post<{ Params: ProjectParams; Body: FaultsBody }>(
    '/faults',
    {
      config: { errorCodes: { status: Errors.invalidStatus } },
      schema: controlSchema({
        operationId: 'OpenCphSetFaults',
        summary: 'Put phones (-7 abnormal, 6 frozen; back: 2, 8) or servers (2 abnormal, 10 shut down, 8 frozen; back: 5) in a status, or hold adb slots of servers',
        body: faultsBody,
        ok: faultsResponse,
      }),
    },
    async (req) => {
      const { phones = [], servers = [] } = req.body;
      if (phones.length + servers.length === 0) throw new CphError(invalidParameter('body'), 'Give phones or servers.');
      if (servers.some((s) => s.status === undefined && s.stuck_adb_slots === undefined)) throw new CphError(invalidParameter('servers'), 'Give a server a status or stuck_adb_slots.');
      const project = req.params.project_id;
      const at = now();
      const phoneAnswers = [];
      for (const p of phones) {
        // An id of another project answers as an unknown one: the tenant learns nothing.
        const set = await setPhoneStatus(db, project, p.phone_id, p.status, at);
        phoneAnswers.push(set ? { phone_id: p.phone_id, status: p.status, update_time: formatUtc(at) } : { phone_id: p.phone_id, error_code: Errors.batchInvalidPhoneId.code, error_msg: Errors.batchInvalidPhoneId.message });
      }
      const serverAnswers = [];
      for (const s of servers) {
        const known =
          (s.status === undefined || (await setServerStatus(db, project, s.server_id, s.status, at))) &&
          (s.stuck_adb_slots === undefined || (await setStuckAdbSlots(db, project, s.server_id, s.stuck_adb_slots, at)));
        serverAnswers.push(
          known
            ? { server_id: s.server_id, status: s.status, stuck_adb_slots: s.stuck_adb_slots, update_time: formatUtc(at) }
            : { server_id: s.server_id, error_code: Errors.batchInvalidServerId.code, error_msg: Errors.batchInvalidServerId.message },
        );
      }
      // Released slots (or a status put back) may let waiting jobs start.
      engine.wake();
      return { request_id: req.id, phones: phoneAnswers, servers: serverAnswers };
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/faults',
    { schema: controlSchema({ operationId: 'OpenCphListFaults', summary: "The project's phones (-7, 6) and servers (2, 8, 10) in a fault status", ok: faultsResponse }) },
    async (req) => {
      const f = await listFaults(db, req.params.project_id);
      return { request_id: req.id, phones: f.phones.map(wirePhone), servers: f.servers.map(wireServer) };
    },
  );

  app.delete<{ Params: ProjectParams }>(
    '/faults',
    { schema: controlSchema({ operationId: 'OpenCphClearFaults', summary: 'Clear every fault: phones back to 2, servers back to 5; answers what was cleared', ok: faultsResponse }) },
    async (req) => {
      const f = await clearFaults(db, req.params.project_id, now());
      engine.wake();
      return { request_id: req.id, phones: f.phones.map(wirePhone), servers: f.servers.map(wireServer) };
    },
  );
}
