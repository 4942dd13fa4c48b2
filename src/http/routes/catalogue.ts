import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../types.js';

export async function catalogueRoutes(_app: FastifyInstance, _deps: RouteDeps): Promise<void> {}
