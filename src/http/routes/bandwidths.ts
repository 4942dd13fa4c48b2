import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';
import { listBandwidths, resizeBandwidth } from '../../store/bandwidths.js';
import { errorResponses, pageQuery, projectParams, requestIdOnly } from '../schemas/common.js';
import { bandwidthSchema } from '../schemas/fleet.js';
import { BANDWIDTH_MAX, validBandwidthSize } from '../serverOrder.js';
import type { RouteDeps } from '../types.js';
import { bandwidth } from '../wireServers.js';

/** Under /v1/{project_id}/cloud-phone: bandwidths of the project's servers (cph-api.md §3.7). */
export async function bandwidthRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const tags = ['bandwidths'];

  app.get<{ Params: { project_id: string }; Querystring: { offset: number; limit: number } }>(
    '/bandwidths',
    {
      schema: {
        operationId: 'ShowBandwidthDetail',
        summary: "The project's bandwidths",
        tags,
        params: projectParams,
        querystring: { type: 'object', properties: pageQuery(100, 100) },
        response: { 200: { type: 'object', properties: { request_id: { type: 'string' }, band_widths: { type: 'array', items: bandwidthSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const rows = await listBandwidths(store, req.params.project_id, { offset: req.query.offset, limit: req.query.limit });
      return { request_id: req.id, band_widths: rows.map(bandwidth) };
    },
  );

  app.put<{ Params: { project_id: string; band_width_id: string }; Body: { band_width_size: number } }>(
    '/bandwidths/:band_width_id',
    {
      config: { errorCodes: { band_width_id: Errors.bandwidthNotFound } },
      schema: {
        operationId: 'UpdateBandwidth',
        summary: "Change a bandwidth's size",
        tags,
        params: { type: 'object', required: ['project_id', 'band_width_id'], properties: { project_id: { type: 'string' }, band_width_id: { type: 'string', maxLength: 64 } } },
        body: { type: 'object', required: ['band_width_size'], properties: { band_width_size: { type: 'integer' } } },
        response: { 200: requestIdOnly, ...errorResponses },
      },
    },
    async (req) => {
      if (!validBandwidthSize(req.body.band_width_size)) {
        throw new CphError(invalidParameter('band_width_size'), `1–300 Mbit/s, then steps of 50 up to 1000, then of 500 up to ${BANDWIDTH_MAX}.`);
      }
      if (!(await resizeBandwidth(store.db, req.params.project_id, req.params.band_width_id, req.body.band_width_size, engine.deps.clock.now()))) {
        throw new CphError(Errors.bandwidthNotFound);
      }
      return { request_id: req.id };
    },
  );
}
