import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../types.js';

/** Under /v1/{project_id}/cloud-phone. */
export async function serverLifecycleRoutes(_app: FastifyInstance, _deps: RouteDeps): Promise<void> {}

/** Full paths: /v2/{project_id}/cloud-phone/… and /v2.1/{project_id}/cloud-phone/…. */
export async function serverOrderRoutes(_app: FastifyInstance, _deps: RouteDeps): Promise<void> {}
