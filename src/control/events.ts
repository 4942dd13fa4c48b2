import type { FastifyInstance } from 'fastify';
import { CphError, invalidParameter } from '../domain/errors.js';
import { EVENT_TYPES } from '../domain/events.js';
import { eventData } from '../engine/events.js';
import type { RouteDeps } from '../http/types.js';
import { controlSchema, type ProjectParams } from './schema.js';

/**
 * Live events: a Server-Sent Events stream of the project's job changes and phone/server status
 * changes (README "Live events and webhooks", docs/decisions/0022-events-in-the-same-transaction.md).
 * Each event is `id: <seq>`, `event: <type>`, `data: <json>`; a client that reconnects with
 * `Last-Event-ID` gets everything after it, then the live stream.
 */

interface EventsQuery {
  last_event_id?: string;
  types?: string;
}

/** Events read per query while catching up. */
const PAGE = 500;
/**
 * How often an open stream checks its caller's credentials again, at most (before it sends events,
 * and at each keep-alive): a token that expires or a user or key disabled ends the stream within
 * this time of its next event or keep-alive. As long as a node keeps an access key (KEY_CACHE_MS).
 */
const RECHECK_MS = 1_000;
const SEQ = /^[0-9]{1,15}$/;

function parseTypes(text: string | undefined): string[] | undefined {
  if (text === undefined || text === '') return undefined;
  const types = [...new Set(text.split(',').map((t) => t.trim()))];
  if (types.some((t) => !(EVENT_TYPES as readonly string[]).includes(t))) throw new CphError(invalidParameter('types'), `Event types are ${EVENT_TYPES.join(', ')}.`);
  return types;
}

export async function eventRoutes(app: FastifyInstance, { engine }: RouteDeps): Promise<void> {
  const hub = engine.events;
  // Open streams would hold the server's close open: they end first.
  app.addHook('preClose', (done) => {
    hub.close();
    done();
  });

  app.get<{ Params: ProjectParams; Querystring: EventsQuery }>(
    '/events',
    {
      schema: controlSchema({
        operationId: 'OpenCphStreamEvents',
        summary: "A Server-Sent Events stream of the project's job and phone/server status changes; resumable with Last-Event-ID",
        description:
          'text/event-stream: each event is `id: <seq>`, `event: <type>`, `data: <json>`, a comment every 15 s keeps the connection alive. ' +
          'Without Last-Event-ID (header) or last_event_id (query) only new events come; last_event_id=0 replays every event kept.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            last_event_id: { type: 'string', description: 'Resume after this event (as the Last-Event-ID header)' },
            types: { type: 'string', description: `Comma-separated: ${EVENT_TYPES.join(', ')}` },
          },
        },
        ok: { description: 'text/event-stream', type: 'string' },
      }),
    },
    async (req, reply) => {
      const projectId = req.params.project_id;
      const types = parseTypes(req.query.types);
      const header = req.headers['last-event-id'];
      const given = req.query.last_event_id ?? (Array.isArray(header) ? header[0] : header);
      if (given !== undefined && !SEQ.test(given.trim())) throw new CphError(invalidParameter('last_event_id'));
      let cursor = given !== undefined ? Number(given.trim()) : await hub.last();

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-request-id': req.id,
        'x-accel-buffering': 'no',
      });
      // HEAD (which Fastify answers for every GET route): the head of a stream, and no stream.
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      res.write(': connected\n\n');

      let ended = false;
      let pumping = false;
      let again = false;
      const end = () => {
        if (ended) return;
        ended = true;
        remove?.();
        res.end();
      };
      // Real time, not the node's clock: this paces I/O (a virtual clock may stand still).
      let checkedAt = performance.now();
      const stillAllowed = async (): Promise<boolean> => {
        const recheck = req.caller?.recheck;
        if (!recheck || performance.now() - checkedAt < RECHECK_MS) return true;
        checkedAt = performance.now();
        try {
          const caller = await recheck();
          if (caller.projects === 'any' || caller.projects.has(projectId)) return true;
          req.log.info({ caller: caller.principal }, 'event stream ended: the caller may no longer use the project');
        } catch (err) {
          // The store failing for a moment says nothing of the credentials: the next check asks again.
          if (!(err instanceof CphError)) {
            req.log.warn({ err }, 'could not check the credentials of an event stream again; the next check will');
            return true;
          }
          req.log.info({ caller: req.caller?.principal, reason: err.message }, 'event stream ended: its credentials are no longer taken');
        }
        end();
        return false;
      };
      const pump = async () => {
        if (ended) return;
        if (pumping) {
          again = true;
          return;
        }
        pumping = true;
        try {
          do {
            again = false;
            for (;;) {
              const { events, cursor: next } = await hub.next(projectId, cursor, types, PAGE);
              if (ended || (events.length > 0 && !(await stillAllowed()))) return;
              cursor = next;
              let text = '';
              for (const e of events) text += `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(eventData(e))}\n\n`;
              // A slow reader: wait until what was written has gone out.
              if (text !== '' && !res.write(text)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
              if (events.length < PAGE) break;
            }
          } while (again && !ended);
        } catch (err) {
          req.log.error({ err }, 'reading events for a stream failed');
          end();
        } finally {
          pumping = false;
        }
      };
      const remove = hub.add({ wake: () => void pump(), close: end }, () => {
        void stillAllowed().then((ok) => {
          if (ok && !ended) res.write(': keep-alive\n\n');
        });
      });
      if (!remove) return end();
      res.on('close', end);
      await pump();
    },
  );
}
