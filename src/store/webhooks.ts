import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { WebhookTable } from './schema.js';

export type WebhookRow = Selectable<WebhookTable>;

export interface NewWebhook {
  webhookId: string;
  projectId: string;
  url: string;
  secret: string;
  types: readonly string[] | null;
  now: number;
  /** Delivery starts after this event: the last one written before the webhook. */
  after: number;
}

export async function insertWebhook(db: Db, w: NewWebhook): Promise<void> {
  await db
    .insertInto('webhooks')
    .values({
      webhook_id: w.webhookId,
      project_id: w.projectId,
      url: w.url,
      secret: w.secret,
      types: w.types ? JSON.stringify(w.types) : null,
      created_at: w.now,
      last_event_id: w.after,
      next_attempt_at: w.now,
    })
    .execute();
}

export async function listWebhooks(db: Db, projectId: string): Promise<WebhookRow[]> {
  return db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).orderBy('created_at').orderBy('webhook_id').execute();
}

export async function countWebhooks(db: Db, projectId: string): Promise<number> {
  const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** False when the project has no such webhook. */
export async function deleteWebhook(db: Db, projectId: string, webhookId: string): Promise<boolean> {
  const r = await db.deleteFrom('webhooks').where('project_id', '=', projectId).where('webhook_id', '=', webhookId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Webhooks whose next attempt is due and that no live lease holds, across projects; and whether there are any webhooks at all. */
export async function dueWebhooks(db: Db, now: number): Promise<{ due: WebhookRow[]; any: boolean }> {
  // The table is small (a few per project): read it whole.
  const all = await db.selectFrom('webhooks').selectAll().orderBy('created_at').execute();
  const free = (w: WebhookRow) => w.lease_owner === null || Number(w.lease_expires_at) < now;
  return { due: all.filter((w) => Number(w.next_attempt_at) <= now && free(w)), any: all.length > 0 };
}

/** Take a webhook's lease (one node delivers it at a time); the row as leased, or undefined when another node holds it. */
export async function leaseWebhook(db: Db, webhookId: string, owner: string, now: number, leaseMs: number): Promise<WebhookRow | undefined> {
  const r = await db
    .updateTable('webhooks')
    .set({ lease_owner: owner, lease_expires_at: now + leaseMs })
    .where('webhook_id', '=', webhookId)
    .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_expires_at', '<', now)]))
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return undefined;
  return db.selectFrom('webhooks').selectAll().where('webhook_id', '=', webhookId).executeTakeFirst();
}

/** An event delivered: the cursor moves on and the lease is extended; false when the lease (or the webhook) is gone. */
export async function markDelivered(db: Db, webhookId: string, owner: string, seq: number, now: number, leaseMs: number): Promise<boolean> {
  const r = await db
    .updateTable('webhooks')
    .set({ last_event_id: seq, failures: 0, last_error: null, next_attempt_at: now, lease_expires_at: now + leaseMs })
    .where('webhook_id', '=', webhookId)
    .where('lease_owner', '=', owner)
    .where('last_event_id', '<', seq)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Move a cursor over events that are not the webhook's (another project's, a type it did not ask
 * for), only if nobody moved it meanwhile.
 */
export async function passOver(db: Db, webhookId: string, from: number, to: number): Promise<void> {
  await db.updateTable('webhooks').set({ last_event_id: to }).where('webhook_id', '=', webhookId).where('last_event_id', '=', from).execute();
}

/** A delivery failed: recorded, the next attempt put off, the lease given up. */
export async function markFailed(db: Db, webhookId: string, owner: string, error: string, nextAttemptAt: number): Promise<void> {
  await db
    .updateTable('webhooks')
    .set((eb) => ({ failures: eb('failures', '+', 1), last_error: error, next_attempt_at: nextAttemptAt, lease_owner: null, lease_expires_at: null }))
    .where('webhook_id', '=', webhookId)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function releaseWebhook(db: Db, webhookId: string, owner: string): Promise<void> {
  await db.updateTable('webhooks').set({ lease_owner: null, lease_expires_at: null }).where('webhook_id', '=', webhookId).where('lease_owner', '=', owner).execute();
}
