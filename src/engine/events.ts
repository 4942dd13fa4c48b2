import type { EventData, EventType } from '../domain/events.js';
import { formatUtc } from '../domain/time.js';
import { lastEventSeq, readEvents, type EventRow } from '../store/events.js';
import type { EngineDeps } from './deps.js';


export function eventData(e: EventRow): EventData {
  // In the contract's order; absent fields left out rather than null.
  const d = { type: e.type as EventType, time: formatUtc(Number(e.created_at)), project_id: e.project_id } as EventData;
  if (e.request_id !== null) d.request_id = e.request_id;
  if (e.job_id !== null) d.job_id = e.job_id;
  if (e.operation !== null) d.operation = e.operation;
  if (e.phone_id !== null) d.phone_id = e.phone_id;
  if (e.server_id !== null) d.server_id = e.server_id;
  if (e.encode_server_id !== null) d.encode_server_id = e.encode_server_id;
  // Every event's status comes from a NOT NULL column (the job's, phone's or server's).
  d.status = e.status!;
  // A job's error is its final one: shown by the events that carry the failure.
  if (e.status === -1 && e.error_code !== null) d.error_code = e.error_code;
  if (e.status === -1 && e.error_msg !== null) d.error_msg = e.error_msg;
  if (e.previous_status !== null) d.previous_status = e.previous_status;
  return d;
}

/** Something that reads events when told there may be new ones (a stream, the webhook deliverer). */
export interface EventListener {
  /** There may be new events: read them. */
  wake(): void;
  /** The node is shutting down: end now. */
  close(): void;
}

export interface EventHubOptions {
  /**
   * How often listeners look without being told. Other processes' events are only learned this way
   * on SQLite (the API processes of `serve --api-processes` share the file); on PostgreSQL
   * notifications tell, and this is the safety net.
   */
  pollMs: number;
  /** How often streams send a keep-alive comment. */
  keepAliveMs: number;
}

/**
 * Wakes this node's event listeners: at once after this node commits a change (the engine calls
 * `wake`), on a PostgreSQL notification from any node, and on a slow poll. Its timers run only
 * while someone listens.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly keepAlives = new Set<() => void>();
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly deps: EngineDeps,
    private readonly options: EventHubOptions,
  ) {}

  /** Listen until the returned function is called; false when the node is shutting down. */
  add(listener: EventListener, keepAlive?: () => void): (() => void) | undefined {
    if (this.closed) return undefined;
    this.listeners.add(listener);
    if (keepAlive) this.keepAlives.add(keepAlive);
    if (this.timers.length === 0) this.startTimers();
    return () => {
      this.listeners.delete(listener);
      if (keepAlive) this.keepAlives.delete(keepAlive);
      if (this.listeners.size === 0) this.stopTimers();
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  wake(): void {
    for (const l of this.listeners) l.wake();
  }

  /** End every listener (node shutdown); later `add`s are refused. */
  close(): void {
    this.closed = true;
    this.stopTimers();
    for (const l of [...this.listeners]) l.close();
    this.listeners.clear();
    this.keepAlives.clear();
  }

  /** The seq a stream without a cursor starts after: the last event written. */
  last = () => lastEventSeq(this.deps.db);

  /**
   * The project's next events after `after` (up to `limit`), and where the reader's cursor goes:
   * the last of them, or when fewer came, the last event written, even another project's. Every
   * event up to it is committed (decision 22), so nothing behind the cursor can still appear.
   */
  async next(projectId: string, after: number, types: readonly string[] | undefined, limit: number): Promise<{ events: EventRow[]; cursor: number }> {
    const upTo = await lastEventSeq(this.deps.db);
    if (upTo <= after) return { events: [], cursor: after };
    const events = await readEvents(this.deps.db, { projectId, after, upTo, types, limit });
    return { events, cursor: events.length === limit ? events[events.length - 1]!.seq : upTo };
  }

  // The hub's timers, in one place.
  private startTimers(): void {
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.pollMs, () => this.wake());
    every(this.options.keepAliveMs, () => {
      for (const k of this.keepAlives) k();
    });
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
