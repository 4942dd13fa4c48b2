import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../http/types.js';

export async function faultRoutes(_app: FastifyInstance, _deps: RouteDeps): Promise<void> {}
