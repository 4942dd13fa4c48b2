import type { EventData } from '../../src/domain/events.js';
import { ext, unauthorized, type Session } from './api';

/** An event of OpenCPH's stream (GET /_opencph/v1/{project_id}/events), with its id in the stream. */
export type LiveEvent = EventData & { id: string };

/** live: the event stream is open; polling: the server has no stream; offline: the server does not answer. */
export type LiveMode = 'connecting' | 'live' | 'polling' | 'offline';

export interface LiveOptions {
  /** Each event, in order. */
  onEvent(e: LiveEvent): void;
  /** Read everything again: after a gap in the stream, and every `pollMs` while there is no stream. */
  onRefresh(): void;
  onMode(m: LiveMode): void;
  pollMs?: number;
}

/** One Server-Sent Event's fields out of its lines; undefined for a comment (a keep-alive). */
function parseEvent(block: string): { id?: string; data: string } | undefined {
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { id, data: data.join('\n') } : undefined;
}

/**
 * Follows the project's events while the page is open. Where the server has no event stream (404:
 * Huawei's cloud, or a proxy that drops it) the console polls instead; a dropped stream is opened
 * again after a pause that grows to 10 s, resuming after the last event seen, and the page polls
 * meanwhile. Returns the function that stops it.
 */
export function followEvents(session: Session, o: LiveOptions): () => void {
  const pollMs = o.pollMs ?? 5_000;
  const abort = new AbortController();
  let lastId: string | undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  let pause = 1_000;

  const poll = (on: boolean) => {
    if (on && !poller) poller = setInterval(o.onRefresh, pollMs);
    if (!on && poller) {
      clearInterval(poller);
      poller = undefined;
    }
  };

  // Set once a stream was lost: whatever changed meanwhile is read in full when one opens again
  // (the page read everything when it opened).
  let gap = false;
  const open = async (): Promise<'ended' | 'absent' | 'refused' | 'offline'> => {
    const headers: Record<string, string> = { 'X-Auth-Token': session.token, Accept: 'text/event-stream' };
    if (lastId !== undefined) headers['Last-Event-ID'] = lastId;
    let res: Response;
    try {
      res = await fetch(ext(session, '/events'), { headers, signal: abort.signal });
    } catch {
      return 'offline';
    }
    if (res.status === 401) unauthorized();
    if (res.status === 404 || res.status === 405) return 'absent';
    if (!res.ok || !res.body) return 'refused';
    o.onMode('live');
    poll(false);
    if (gap) o.onRefresh();
    gap = false;
    pause = 1_000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return 'ended';
      buffer += value.replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const parsed = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!parsed) continue;
        if (parsed.id !== undefined) lastId = parsed.id;
        try {
          o.onEvent({ ...(JSON.parse(parsed.data) as Omit<LiveEvent, 'id'>), id: parsed.id ?? '' });
        } catch {
          // Not an event the console knows: skipped.
        }
      }
    }
  };

  void (async () => {
    o.onMode('connecting');
    while (!abort.signal.aborted) {
      const outcome = await open();
      if (abort.signal.aborted) break;
      gap = true;
      // Offline: nothing to poll; the next attempt to open the stream is what finds the server again.
      o.onMode(outcome === 'offline' ? 'offline' : 'polling');
      poll(outcome !== 'offline');
      if (outcome === 'absent') return;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  })();

  return () => {
    abort.abort();
    poll(false);
  };
}
