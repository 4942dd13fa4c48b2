import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { formatUtc, formatUtcOrNull } from '../domain/time.js';
import { EVENT_TYPES } from '../domain/events.js';
import { requestIdOnly } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { countWebhooks, deleteWebhook, insertWebhook, listWebhooks, type WebhookRow } from '../store/webhooks.js';
import { lastEventSeq } from '../store/events.js';
import { answerWith, controlSchema, paramsWith, type ProjectParams } from './schema.js';

/**
 * Webhooks: URLs that receive the project's events as signed POSTs, in order, retried with backoff
 * (src/engine/webhooks.ts delivers them).
 */

type WebhookParams = ProjectParams & { webhook_id: string };
interface WebhookBody {
  url: string;
  secret?: string;
  types?: string[];
}

const MAX_WEBHOOKS = 20;

const webhookBody = {
  type: 'object',
  properties: {
    webhook_id: { type: 'string' },
    url: { type: 'string' },
    secret: { type: 'string' },
    types: { type: 'array', items: { type: 'string' } },
    create_time: { type: 'string' },
    last_event_id: { type: 'integer', description: 'The last event delivered (or passed over by the type filter)' },
    failures: { type: 'integer', description: 'Failed attempts since the last delivery' },
    last_error: { type: ['string', 'null'] },
    next_attempt_time: { type: ['string', 'null'], description: 'When a failed delivery is tried again' },
  },
} as const;

function wire(w: WebhookRow) {
  return {
    webhook_id: w.webhook_id,
    url: w.url,
    secret: w.secret,
    types: w.types ? (JSON.parse(w.types) as string[]) : [...EVENT_TYPES],
    create_time: formatUtc(Number(w.created_at)),
    last_event_id: Number(w.last_event_id),
    failures: Number(w.failures),
    last_error: w.last_error,
    next_attempt_time: Number(w.failures) > 0 ? formatUtcOrNull(Number(w.next_attempt_at)) : null,
  };
}

function validUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export async function webhookRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;

  app.post<{ Params: ProjectParams; Body: WebhookBody }>(
    '/webhooks',
    {
      schema: controlSchema({
        operationId: 'OpenCphCreateWebhook',
        summary: "Register a URL that receives the project's events as signed POSTs (a secret is generated when none is given)",
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', minLength: 1, maxLength: 2048 },
            secret: { type: 'string', minLength: 1, maxLength: 256 },
            types: { type: 'array', minItems: 1, maxItems: EVENT_TYPES.length, items: { type: 'string', enum: [...EVENT_TYPES] } },
          },
        },
        ok: answerWith('webhook', webhookBody),
      }),
    },
    async (req) => {
      const { url, secret, types } = req.body;
      if (!validUrl(url)) throw new CphError(invalidParameter('url'), 'Give an http or https URL.');
      const projectId = req.params.project_id;
      if ((await countWebhooks(db, projectId)) >= MAX_WEBHOOKS) throw new CphError(Errors.tooManyWebhooks);
      const webhookId = engine.deps.ids();
      const now = engine.deps.clock.now();
      await insertWebhook(db, {
        webhookId,
        projectId,
        url,
        secret: secret ?? randomBytes(32).toString('hex'),
        types: types ? [...new Set(types)] : null,
        now,
        after: await lastEventSeq(db),
      });
      const created = (await listWebhooks(db, projectId)).find((w) => w.webhook_id === webhookId)!;
      return { request_id: req.id, webhook: wire(created) };
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/webhooks',
    {
      schema: controlSchema({ operationId: 'OpenCphListWebhooks', summary: "The project's webhooks with their delivery state", ok: answerWith('webhooks', { type: 'array', items: webhookBody }) }),
    },
    async (req) => ({ request_id: req.id, webhooks: (await listWebhooks(db, req.params.project_id)).map(wire) }),
  );

  app.delete<{ Params: WebhookParams }>(
    '/webhooks/:webhook_id',
    {
      schema: controlSchema({ operationId: 'OpenCphDeleteWebhook', summary: 'Delete a webhook: its deliveries stop', params: paramsWith('webhook_id'), ok: requestIdOnly }),
    },
    async (req) => {
      if (!(await deleteWebhook(db, req.params.project_id, req.params.webhook_id))) throw new CphError(Errors.webhookNotFound);
      return { request_id: req.id };
    },
  );
}
