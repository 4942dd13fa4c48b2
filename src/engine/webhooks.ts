import { createHmac } from 'node:crypto';
import { dueWebhooks, leaseWebhook, markDelivered, markFailed, passOver, releaseWebhook, type WebhookRow } from '../store/webhooks.js';
import type { EngineDeps } from './deps.js';
import { eventData, type EventHub } from './events.js';

/** How long one POST may take before it counts as failed. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** The first retry after a failure; each further failure doubles it, up to MAX_BACKOFF_MS. */
export const FIRST_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 600_000;
/** A webhook's lease: one node delivers it at a time; a node that dies hands it over after this. */
const LEASE_MS = 60_000;
/** Events read per round of one webhook. */
const BATCH = 50;

export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

/** `sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body). */
export function signature(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export interface DelivererOptions {
  /** This node's identity on the leases it holds. */
  owner: string;
  /** How often it looks for due webhooks without being told. */
  pollMs?: number;
}

/**
 * Delivers each webhook's events in order, one at a time, at least once: the cursor moves past an
 * event only after its receiver answered 2xx; anything else retries the same event after a
 * backoff. Nodes that run jobs deliver; a lease on the webhook row keeps it to one node at a time.
 */
export class WebhookDeliverer {
  private running = false;
  private again = false;
  private stopped = false;
  private pass: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private unlisten?: () => void;
  private readonly inFlight = new Set<AbortController>();
  /** Whether the last pass found any webhook at all: without one, new events need no pass of their own. */
  private anyWebhook = true;

  constructor(
    private readonly deps: EngineDeps,
    private readonly hub: EventHub,
    private readonly options: DelivererOptions,
  ) {}

  start(): void {
    // Retries come due with time, not with events: a timer of its own.
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 500);
    this.timer.unref();
    // Events wake it only while there are webhooks: a store without them pays no query per commit.
    this.unlisten = this.hub.add({ wake: () => this.anyWebhook && this.wake(), close: () => undefined });
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.pass = this.run().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unlisten?.();
    for (const c of this.inFlight) c.abort();
    await this.pass;
  }

  private async run(): Promise<void> {
    try {
      const { due, any } = await dueWebhooks(this.deps.db, this.deps.clock.now());
      this.anyWebhook = any;
      await Promise.all(due.map((w) => this.deliver(w)));
    } catch (err) {
      this.deps.log.error({ err }, 'delivering webhooks failed');
    }
  }

  /** Deliver what the webhook has not had yet, while it answers 2xx and the lease holds. */
  private async deliver(found: WebhookRow): Promise<void> {
    const types = found.types ? (JSON.parse(found.types) as string[]) : undefined;
    const after = Number(found.last_event_id);
    // Nothing new for it: no lease taken; the cursor passes over other projects' events.
    const probe = await this.hub.next(found.project_id, after, types, 1);
    if (probe.events.length === 0) {
      if (probe.cursor > after) await passOver(this.deps.db, found.webhook_id, after, probe.cursor);
      return;
    }
    const owner = this.options.owner;
    const w = await leaseWebhook(this.deps.db, found.webhook_id, owner, this.deps.clock.now(), LEASE_MS);
    if (!w) return;
    let cursor = Number(w.last_event_id);
    try {
      while (!this.stopped) {
        const { events, cursor: next } = await this.hub.next(w.project_id, cursor, types, BATCH);
        for (const e of events) {
          if (this.stopped) return;
          const failure = await this.post(w, e.seq, eventData(e));
          if (failure !== undefined) {
            // Cut off by shutdown: not the receiver's failure; the next node (or start) sends it again.
            if (this.stopped) return;
            await markFailed(this.deps.db, w.webhook_id, owner, failure, this.deps.clock.now() + backoffMs(Number(w.failures) + 1));
            return;
          }
          if (!(await markDelivered(this.deps.db, w.webhook_id, owner, e.seq, this.deps.clock.now(), LEASE_MS))) return;
          w.failures = 0;
          cursor = e.seq;
        }
        if (events.length < BATCH) {
          if (next > cursor) await passOver(this.deps.db, w.webhook_id, cursor, next);
          break;
        }
      }
    } finally {
      await releaseWebhook(this.deps.db, w.webhook_id, owner).catch((err) => this.deps.log.warn({ err }, 'releasing a webhook lease failed'));
    }
  }

  /** POST one event; undefined when the receiver took it (2xx), else why not. */
  private async post(w: WebhookRow, seq: number, data: ReturnType<typeof eventData>): Promise<string | undefined> {
    const body = JSON.stringify(data);
    const timestamp = String(Math.floor(this.deps.clock.now() / 1000));
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)), DELIVERY_TIMEOUT_MS);
    try {
      const res = await fetch(w.url, {
        method: 'POST',
        body,
        signal: controller.signal,
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'x-opencph-event-id': String(seq),
          'x-opencph-event-type': data.type,
          'x-opencph-timestamp': timestamp,
          'x-opencph-signature': signature(w.secret, timestamp, body),
        },
      });
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: Error };
      return controller.signal.aborted ? String((controller.signal.reason as Error)?.message ?? 'aborted') : (e.cause?.message ?? e.message);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }
}
