import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter, targetError } from '../../domain/errors.js';
import { parseProperty } from '../../domain/property.js';
import { PHONE_STATUSES } from '../../domain/status.js';
import { isValidName } from '../../domain/text.js';
import type { RouteDeps } from '../types.js';
import { Operations, type OperationDef } from '../../engine/operations.js';
import type { PhoneTarget } from '../../engine/submit.js';
import { getPhoneView, listPhones, renamePhone } from '../../store/fleet.js';
import { usableImage } from '../../store/images.js';
import { batchResponse, errorResponses, projectParams, requestIdOnly } from '../schemas/common.js';
import {
  listPhonesQuery,
  listPhonesResponse,
  phoneDetailSchema,
  phoneNameBody,
  phoneParams,
  restartResetBody,
  stopBody,
  updatePropertyBody,
} from '../schemas/fleet.js';
import * as wire from '../wire.js';

type ProjectParams = { project_id: string };
type PhoneParams = ProjectParams & { phone_id: string };
interface RestartResetBody {
  image_id?: string;
  phones: { phone_id: string; property?: string }[];
}

/** A batch item with an optional property string: a malformed one fails that item alone. */
function propertyTarget(phoneId: string, text: string | undefined, params: Record<string, unknown> = {}): PhoneTarget {
  const property = text === undefined ? undefined : parseProperty(text);
  return {
    phoneId,
    params: { ...params, property },
    error: text !== undefined && !property ? targetError(invalidParameter('property'), 'It must be a JSON object of names to values, as a string.') : undefined,
  };
}

export async function phoneRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;
  const tags = ['phones'];
  const phoneIdErrors = { errorCodes: { phone_id: Errors.invalidPhoneId } };
  const batchErrors = { errorCodes: { phones: Errors.phoneIdsEmpty, phone_ids: Errors.phoneIdsEmpty, 'phone_ids[]': Errors.batchInvalidPhoneId, 'phones[]': Errors.batchInvalidPhoneId, phone_id: Errors.batchInvalidPhoneId, image_id: Errors.invalidImageId } };

  app.get<{ Params: ProjectParams; Querystring: { offset: number; limit: number; phone_name?: string; server_id?: string; status?: number; type?: number } }>(
    '/phones',
    {
      config: { errorCodes: { status: Errors.invalidStatus } },
      schema: { operationId: 'ListCloudPhones', summary: 'List phones, newest first', tags, params: projectParams, querystring: listPhonesQuery, response: { 200: listPhonesResponse, ...errorResponses } },
    },
    async (req) => {
      const q = req.query;
      if (q.status !== undefined && !PHONE_STATUSES.includes(q.status)) throw new CphError(Errors.invalidStatus);
      const { rows, count } = await listPhones(
        store,
        req.params.project_id,
        { phoneName: q.phone_name, serverId: q.server_id, status: q.status, type: q.type },
        { offset: q.offset, limit: q.limit },
      );
      return { request_id: req.id, count, phones: rows.map(wire.phone) };
    },
  );

  app.get<{ Params: PhoneParams }>(
    '/phones/:phone_id',
    {
      config: phoneIdErrors,
      schema: { operationId: 'ShowCloudPhoneDetail', summary: 'One phone', tags, params: phoneParams, response: { 200: phoneDetailSchema, ...errorResponses } },
    },
    async (req) => {
      const p = await getPhoneView(store, req.params.project_id, req.params.phone_id);
      if (!p) throw new CphError(Errors.phoneNotFound);
      return wire.phoneDetail(p, req.id);
    },
  );

  app.put<{ Params: PhoneParams; Body: { phone_name: string } }>(
    '/phones/:phone_id',
    {
      config: { errorCodes: { phone_id: Errors.invalidPhoneId, phone_name: Errors.invalidPhoneName, body: Errors.invalidPhoneName } },
      schema: { operationId: 'UpdatePhoneName', summary: 'Rename a phone', tags, params: phoneParams, body: phoneNameBody, response: { 200: requestIdOnly, ...errorResponses } },
    },
    async (req) => {
      if (!isValidName(req.body.phone_name)) throw new CphError(Errors.invalidPhoneName);
      if (!(await renamePhone(db, req.params.project_id, req.params.phone_id, req.body.phone_name, engine.deps.clock.now()))) throw new CphError(Errors.phoneNotFound);
      return { request_id: req.id };
    },
  );

  /** Restart and reset share a body: optional image, phones with optional properties. */
  const restartOrReset = (op: OperationDef, operationId: string, summary: string) =>
    app.post<{ Params: ProjectParams; Body: RestartResetBody }>(
      `/phones/batch-${op.name.split('.')[1]}`,
      {
        config: batchErrors,
        schema: { operationId, summary, tags, params: projectParams, body: restartResetBody, response: { 200: batchResponse('phone_id'), ...errorResponses } },
      },
      async (req) => {
        const imageId = req.body.image_id;
        if (imageId !== undefined && !(await usableImage(db, req.params.project_id, imageId))) throw new CphError(Errors.invalidImageId);
        const targets = req.body.phones.map((item) => propertyTarget(item.phone_id, item.property, { imageId }));
        const r = await engine.submitPhones(req.id, req.params.project_id, op, targets);
        return { request_id: r.requestId, jobs: r.jobs };
      },
    );

  restartOrReset(Operations.restartPhone, 'RestartCloudPhone', 'Restart phones (also starts stopped ones)');
  restartOrReset(Operations.resetPhone, 'ResetCloudPhone', 'Factory-reset phones, optionally to another image');

  app.post<{ Params: ProjectParams; Body: { phones: { phone_id: string; property: string }[] } }>(
    '/phones/batch-update-property',
    {
      config: batchErrors,
      schema: {
        operationId: 'UpdateCloudPhoneProperty',
        summary: 'Set properties on phones (a JSON string of names to values per phone)',
        tags,
        params: projectParams,
        body: updatePropertyBody,
        response: { 200: batchResponse('phone_id'), ...errorResponses },
      },
    },
    async (req) => {
      const targets = req.body.phones.map((item) => propertyTarget(item.phone_id, item.property));
      const r = await engine.submitPhones(req.id, req.params.project_id, Operations.updateProperty, targets);
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );

  app.post<{ Params: ProjectParams; Body: { phone_ids: string[] } }>(
    '/phones/batch-stop',
    {
      config: batchErrors,
      schema: { operationId: 'StopCloudPhone', summary: 'Stop phones', tags, params: projectParams, body: stopBody, response: { 200: batchResponse('phone_id'), ...errorResponses } },
    },
    async (req) => {
      const r = await engine.submitPhones(req.id, req.params.project_id, Operations.stopPhone, req.body.phone_ids.map((phoneId) => ({ phoneId })));
      return { request_id: r.requestId, jobs: r.jobs };
    },
  );
}
