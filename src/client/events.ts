import type { IncomingMessage } from 'node:http';
import type { EventData, EventType } from '../domain/events.js';
import { OpenCphApiError, readText, type Transport } from './transport.js';

export type OpenCphEventType = EventType;

/** One event of `GET /_opencph/v1/{project_id}/events`: its data, and its `id` (the stream's sequence number). */
export interface OpenCphEvent extends EventData {
  /** The event's id in the stream: give it as `lastEventId` to resume after it. */
  id: string;
}

export interface EventStreamOptions {
  /** Only these types (default: all). */
  types?: OpenCphEventType[];
  /** Resume after this event (the events the stream still holds after it come first). */
  lastEventId?: string;
}

export interface WaitOptions {
  /** Reject after this long (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_WAIT_MS = 10_000;

/**
 * A live event stream (Server-Sent Events, parsed here). Iterate it with `for await`; leaving the
 * loop (break, return, throw) closes the connection. Events that arrive while nobody reads are
 * kept in order, so an action taken after `ready` is never missed.
 */
export class EventStream implements AsyncIterableIterator<OpenCphEvent> {
  /** Resolves once the server has accepted the stream; rejects with its error answer. */
  readonly ready: Promise<void>;
  /** The id of the last event received. */
  lastEventId: string | undefined;

  private readonly queue: OpenCphEvent[] = [];
  private readonly waiting: { resolve: (r: IteratorResult<OpenCphEvent>) => void; reject: (e: unknown) => void }[] = [];
  private readonly abort = new AbortController();
  private ended = false;
  private failure: unknown;

  constructor(transport: Transport, options: EventStreamOptions = {}) {
    this.lastEventId = options.lastEventId;
    const query = options.types?.length ? `?types=${encodeURIComponent(options.types.join(','))}` : '';
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    this.ready = transport.open('GET', `/_opencph/v1/${encodeURIComponent(transport.projectId)}/events${query}`, { headers, signal: this.abort.signal }).then(async (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        const text = await readText(res);
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        throw new OpenCphApiError(status, body, text);
      }
      this.read(res);
    });
    // A failure reaches the reader through next(); nobody need await `ready`.
    this.ready.catch((err: unknown) => this.end(err));
  }

  private read(res: IncomingMessage): void {
    let buffer = '';
    let id: string | undefined;
    let event = '';
    let data: string[] = [];
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) this.dispatch(id, event, data.join('\n'));
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
    });
    res.on('end', () => this.end());
    res.on('error', (err) => this.end(this.abort.signal.aborted ? undefined : err));
  }

  private dispatch(id: string | undefined, event: string, data: string): void {
    let parsed: Omit<OpenCphEvent, 'id'>;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const e = { ...parsed, type: (parsed.type ?? event) as OpenCphEventType, id: id ?? '' };
    this.lastEventId = id;
    const reader = this.waiting.shift();
    if (reader) reader.resolve({ value: e, done: false });
    else this.queue.push(e);
  }

  private end(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    for (const reader of this.waiting.splice(0)) {
      if (err) reader.reject(err);
      else reader.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<OpenCphEvent>> {
    return this.take(undefined);
  }

  /** The next event, waiting at most `timeoutMs` when one is given (a reader that gives up takes nothing). */
  private take(timeoutMs: number | undefined): Promise<IteratorResult<OpenCphEvent>> {
    const e = this.queue.shift();
    if (e) return Promise.resolve({ value: e, done: false });
    if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const reader = {
        resolve: (r: IteratorResult<OpenCphEvent>) => (clearTimeout(timer), resolve(r)),
        reject: (err: unknown) => (clearTimeout(timer), reject(err)),
      };
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(reader), 1);
          reject(new Error('timed out'));
        }, timeoutMs);
      this.waiting.push(reader);
    });
  }

  return(): Promise<IteratorResult<OpenCphEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * The first event from here on (kept or new) that satisfies `predicate`; the events before it are
   * consumed. Rejects after `timeoutMs`, or when the stream ends first. The stream stays open.
   */
  async waitFor(predicate: (e: OpenCphEvent) => boolean, options: WaitOptions = {}): Promise<OpenCphEvent> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.take(Math.max(0, deadline - Date.now())).catch((err: unknown) => {
        throw this.ended ? err : new Error(`no matching event within ${timeoutMs} ms`);
      });
      if (r.done) throw new Error('the event stream ended before a matching event');
      if (predicate(r.value)) return r.value;
    }
  }

  /** Close the connection; events already received can still be read. */
  close(): void {
    this.abort.abort();
    this.end();
  }
}
