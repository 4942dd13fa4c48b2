import type { FastifyInstance } from 'fastify';
import { Errors } from '../../domain/errors.js';
import { listPhoneModels, listServerModels } from '../../store/catalogue.js';
import { errorResponses, pageQuery, projectParams, queryInteger } from '../schemas/common.js';
import type { RouteDeps } from '../types.js';
import { phoneModel, serverModel } from '../wireServers.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

const phoneModelSchema = {
  type: 'object',
  properties: {
    server_model_name: str,
    phone_model_name: str,
    status: int,
    cpu: int,
    memory: int,
    disk: int,
    resolution: str,
    extend_spec: str,
    spec_code: str,
    phone_capacity: int,
    image_label: str,
    product_type: int,
    phone_model_version: int,
    dpi: int,
    fps: str,
    volume_mode: int,
    render_fps: int,
    stream_fps: int,
  },
} as const;

const serverModelSchema = {
  type: 'object',
  properties: {
    server_model_name: str,
    server_type: str,
    cpu: int,
    memory: int,
    extend_spec: {
      type: 'object',
      properties: {
        cpu: str,
        memory: str,
        disk: str,
        network_interface: str,
        gpu: str,
        bms_flavor: str,
        gpu_count: int,
        numa_count: int,
        os_volume: { type: 'object', properties: { size: int, volume_type: str } },
      },
    },
    disk_max_num: int,
    product_type: int,
    free_size: int,
  },
} as const;

/** Under /v1/{project_id}/cloud-phone: the model catalogue (cph-api.md §3.5, §4.3). */
export async function catalogueRoutes(app: FastifyInstance, { store }: RouteDeps): Promise<void> {
  const tags = ['models'];

  app.get<{ Params: { project_id: string }; Querystring: { status?: number; offset: number; limit: number } }>(
    '/phone-models',
    {
      config: { errorCodes: { status: Errors.invalidStatus } },
      schema: {
        operationId: 'ListCloudPhoneModels',
        summary: 'Phone models, of one status or all',
        tags,
        params: projectParams,
        querystring: { type: 'object', properties: { ...pageQuery(100, 100), status: { ...queryInteger(0, 1), enum: [0, 1] } } },
        response: { 200: { type: 'object', properties: { request_id: str, phone_models: { type: 'array', items: phoneModelSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const rows = await listPhoneModels(store, req.query.status, { offset: req.query.offset, limit: req.query.limit });
      return { request_id: req.id, phone_models: rows.map(phoneModel) };
    },
  );

  app.get<{ Params: { project_id: string }; Querystring: { product_type?: number } }>(
    '/server-models',
    {
      schema: {
        operationId: 'ListCloudPhoneServerModels',
        summary: 'Server models, of one product type or all',
        tags,
        params: projectParams,
        querystring: { type: 'object', properties: { product_type: { ...queryInteger(0, 1), enum: [0, 1] } } },
        response: { 200: { type: 'object', properties: { request_id: str, server_models: { type: 'array', items: serverModelSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const rows = await listServerModels(store, req.query.product_type);
      return { request_id: req.id, server_models: rows.map(serverModel) };
    },
  );
}
