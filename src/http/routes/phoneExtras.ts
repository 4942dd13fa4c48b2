import type { FastifyInstance } from 'fastify';
import { issueTicket } from '../../auth/connectTickets.js';
import { CphError, Errors, invalidParameter, targetError, type CatalogueEntry } from '../../domain/errors.js';
import { isResourceId } from '../../domain/ids.js';
import { Limits } from '../../domain/limits.js';
import { PhoneStatus, phoneStatusName } from '../../domain/status.js';
import { Operations } from '../../engine/operations.js';
import type { PhoneTarget } from '../../engine/submit.js';
import { getPhoneViews, type PhoneView } from '../../store/fleet.js';
import { batchResponse, errorResponses, projectParams } from '../schemas/common.js';
import { connectionBody, connectionResponse, expandVolumeBody, importTrafficBody } from '../schemas/phoneExtras.js';
import type { RouteDeps } from '../types.js';

type ProjectParams = { project_id: string };

/** A list longer than CPH allows for this call: the whole call is refused. */
function atMost(field: string, list: readonly unknown[], max: number): void {
  if (list.length > max) throw new CphError(invalidParameter(field), `At most ${max} per call.`);
}

const connectError = (phoneId: string, entry: CatalogueEntry, detail?: string) => {
  const e = targetError(entry, detail);
  return { phone_id: phoneId, error_code: e.code, error_msg: e.message };
};

/** Where a client reaches a running phone: its server's public address and the phone's port. */
const accessInfo = (p: PhoneView) => ({ access_ip: p.public_ip ?? '', intranet_ip: p.server_ip ?? '', access_ipv6: '', access_port: p.listen_port });

export async function phoneExtraRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const tags = ['phones'];
  const idErrors = { phone_ids: Errors.phoneIdsEmpty, phones: Errors.phoneIdsEmpty, 'phone_ids[]': Errors.batchInvalidPhoneId, 'phones[]': Errors.batchInvalidPhoneId, phone_id: Errors.batchInvalidPhoneId };

  app.post<{ Params: ProjectParams; Body: { phone_ids: string[]; client_type: string } }>(
    '/phones/batch-connection',
    {
      config: { errorCodes: idErrors },
      schema: {
        operationId: 'BatchShowPhoneConnectInfos',
        summary: 'Connection details of running phones: a new session and ticket on every call',
        tags,
        params: projectParams,
        body: connectionBody,
        response: { 200: connectionResponse, ...errorResponses },
      },
    },
    async (req) => {
      const { phone_ids, client_type } = req.body;
      atMost('phone_ids', phone_ids, Limits.connectionPhones);
      const projectId = req.params.project_id;
      const ids = [...new Set(phone_ids)];
      const phones = await getPhoneViews(store, projectId, ids.filter(isResourceId));
      const now = engine.deps.clock.now();
      const connect_infos = [];
      const errors = [];
      for (const id of ids) {
        const p = isResourceId(id) ? phones.get(id) : undefined;
        if (!isResourceId(id)) errors.push(connectError(id, Errors.batchInvalidPhoneId));
        else if (!p) errors.push(connectError(id, Errors.phoneNotFound));
        else if (p.status !== PhoneStatus.Running) errors.push(connectError(id, Errors.phoneNotAvailable, `The phone is ${phoneStatusName(p.status)} (status ${p.status}).`));
        else connect_infos.push({ phone_id: id, access_info: { ...accessInfo(p), ...issueTicket(projectId, id, client_type, now) } });
      }
      return { request_id: req.id, connect_infos, errors };
    },
  );

  app.post<{ Params: ProjectParams; Body: { phones: { phone_id: string; new_size: number }[] } }>(
    '/phones/expand-volume',
    {
      config: { errorCodes: idErrors },
      schema: {
        operationId: 'ExpandPhoneDataVolumeSize',
        summary: "Grow phones' data volumes (GiB; the same size changes nothing)",
        tags,
        params: projectParams,
        body: expandVolumeBody,
        response: { 200: batchResponse('phone_id'), ...errorResponses },
      },
    },
    async (req) => {
      const projectId = req.params.project_id;
      const phones = await getPhoneViews(store, projectId, req.body.phones.map((p) => p.phone_id).filter(isResourceId));
      const targets = req.body.phones.map(({ phone_id, new_size }): PhoneTarget => {
        const current = phones.get(phone_id)?.volume_size;
        const error =
          new_size < 1 || new_size >= Limits.volumeSizeMax
            ? targetError(invalidParameter('new_size'), `It must be at least 1 and less than ${Limits.volumeSizeMax} GiB.`)
            : current !== undefined && new_size < current
              ? targetError(Errors.volumeSizeTooSmall, `The phone has ${current} GiB.`)
              : undefined;
        return { phoneId: phone_id, params: { newSize: new_size }, error };
      });
      const r = await engine.submitPhones(req.id, projectId, Operations.expandVolume, targets);
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );

  app.post<{ Params: ProjectParams; Body: { traffic_type: string; phone_ids: string[] } }>(
    '/phones-traffic',
    {
      config: { errorCodes: idErrors },
      schema: {
        operationId: 'ImportTraffic',
        summary: "Route phones' traffic directly or through their encode container",
        tags,
        params: projectParams,
        body: importTrafficBody,
        response: { 200: batchResponse('phone_id'), ...errorResponses },
      },
    },
    async (req) => {
      atMost('phone_ids', req.body.phone_ids, Limits.trafficPhones);
      const params = { trafficType: req.body.traffic_type };
      const r = await engine.submitPhones(req.id, req.params.project_id, Operations.importTraffic, req.body.phone_ids.map((phoneId) => ({ phoneId, params })));
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
