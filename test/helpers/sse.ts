import http from 'node:http';
import { signRequest } from '../../src/auth/signature.js';
import type { Key } from './http.js';

/** One Server-Sent Event as a client sees it, its data parsed as JSON. */
export interface SseEvent {
  id: string;
  event: string;
  data: any;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Comment lines received (keep-alives), without the colon. */
  comments: string[];
  /** The body of a refusal (a status other than 200). */
  text: string;
  /** Until `count` events matching `match` have arrived (default: any event); those events. */
  waitFor(count: number, match?: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Hang up. */
  close(): void;
}

/** The headers the SDK signs a GET with, for a stream opened with AK/SK. */
export function signedHeaders(port: number, key: Key, target: string, projectId: string): Record<string, string> {
  return signRequest({
    method: 'GET',
    url: target,
    headers: { host: `127.0.0.1:${port}`, 'X-Project-Id': projectId },
    accessKey: key.ak,
    secretKey: key.sk,
    now: Date.now(),
  });
}

/** Open an event stream with node:http and parse it as it arrives (the text/event-stream format). */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const waiters = new Set<() => void>();
      let endedResolve!: () => void;
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        text: '',
        ended: new Promise<void>((r) => (endedResolve = r)),
        close: () => req.destroy(),
        waitFor(count, match = () => true, timeoutMs = 10_000) {
          return new Promise((ok, fail) => {
            const check = () => {
              const found = stream.events.filter(match);
              if (found.length < count) return false;
              cleanup();
              ok(found.slice(0, count));
              return true;
            };
            const timer = setTimeout(() => {
              cleanup();
              fail(new Error(`${count} events not received within ${timeoutMs} ms; got ${JSON.stringify(stream.events.map((e) => [e.id, e.event, e.data.status]))}`));
            }, timeoutMs);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            if (!check()) waiters.add(check);
          });
        },
      };
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (stream.status !== 200) {
          stream.text += chunk;
          return;
        }
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
            else {
              const colon = line.indexOf(':');
              const name = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`;
            }
          }
          if (fields.data !== undefined) stream.events.push({ id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) });
        }
        for (const w of [...waiters]) w();
      });
      res.on('end', () => endedResolve());
      res.on('close', () => endedResolve());
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}
