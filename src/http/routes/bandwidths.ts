import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../types.js';

export async function bandwidthRoutes(_app: FastifyInstance, _deps: RouteDeps): Promise<void> {}
