import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../http/types.js';
import { clockRoutes } from './clock.js';
import { eventRoutes } from './events.js';
import { faultRoutes } from './faults.js';
import { requestRoutes } from './requests.js';
import { ruleRoutes } from './rules.js';
import { snapshotRoutes } from './snapshots.js';
import { webhookRoutes } from './webhooks.js';

/**
 * The test-control extension, under /_opencph/v1/{project_id}: what a test needs that CPH has no
 * call for. Authenticated and scoped to the caller's project like the CPH routes; its operations
 * carry the OpenAPI tag `opencph`.
 */
export async function controlRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  await app.register(faultRoutes, deps);
  await app.register(ruleRoutes, deps);
  await app.register(clockRoutes, deps);
  await app.register(snapshotRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(webhookRoutes, deps);
  await app.register(requestRoutes, deps);
}
