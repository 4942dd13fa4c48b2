import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { parseDuration, parseIsoInstant, type Clock } from '../domain/time.js';
import { VirtualClock } from '../domain/virtualClock.js';
import { errorBody } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { controlSchema, type ProjectParams } from './schema.js';

/**
 * The clock (`serve --clock virtual`): read it, and move a virtual one on. The clock is the node's,
 * not a project's: any authenticated project may read or move it (README "Virtual clock",
 * docs/decisions/0020-virtual-clock.md).
 */

interface AdvanceBody {
  by_ms?: number;
  by?: string;
  to?: string;
}

/** The last instant an ISO 8601 text with a four-digit year can name. */
const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const clockAnswer = {
  type: 'object',
  required: ['request_id', 'mode', 'now', 'now_ms'],
  properties: {
    request_id: { type: 'string' },
    mode: { type: 'string', enum: ['real', 'virtual'] },
    now: { type: 'string', description: 'ISO 8601 with milliseconds, UTC' },
    now_ms: { type: 'integer', description: 'ms since the epoch' },
  },
} as const;

const advanceBody = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of by_ms, by, to.',
  properties: {
    by_ms: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'ms to move on' },
    by: { type: 'string', maxLength: 64, description: 'a duration: 2d, 1h30m, 30m, 45s, 250ms (units in that order)' },
    to: { type: 'string', maxLength: 64, description: 'an ISO 8601 instant with a zone, not before now' },
  },
} as const;

const answer = (requestId: string, clock: Clock) => {
  const now = clock.now();
  return { request_id: requestId, mode: clock.mode, now: new Date(now).toISOString(), now_ms: now };
};

/** What an advance body asks for: a step (ms) or an instant; CPS.0034 naming the field that is wrong. */
function stepOf(body: AdvanceBody, now: number): { by: number } | { to: number } {
  const given = (['by_ms', 'by', 'to'] as const).filter((k) => body[k] !== undefined);
  if (given.length !== 1) throw new CphError(invalidParameter(given[1] ?? 'body'), 'Give exactly one of by_ms, by and to.');
  const field = given[0]!;
  let step: { by: number } | { to: number };
  if (body.by_ms !== undefined) step = { by: body.by_ms };
  else if (body.by !== undefined) {
    const ms = parseDuration(body.by);
    if (ms === undefined) throw new CphError(invalidParameter('by'), 'A duration is written as 2d, 1h30m, 30m, 45s or 250ms.');
    step = { by: ms };
  } else {
    const to = parseIsoInstant(body.to!);
    if (to === undefined) throw new CphError(invalidParameter('to'), 'An ISO 8601 date-time with a zone, such as 2030-01-01T00:30:00Z.');
    if (to < now) throw new CphError(invalidParameter('to'), `It is before the clock's time, ${new Date(now).toISOString()}; the clock does not go back.`);
    step = { to };
  }
  if (('by' in step ? now + step.by : step.to) > MAX_INSTANT) throw new CphError(invalidParameter(field), 'It goes past the year 9999.');
  return step;
}

export async function clockRoutes(app: FastifyInstance, { engine }: RouteDeps): Promise<void> {
  const clock = engine.deps.clock;

  app.get<{ Params: ProjectParams }>(
    '/clock',
    {
      schema: controlSchema({ operationId: 'OpenCphShowClock', summary: "The node's clock: real or virtual, and its time", ok: clockAnswer }),
    },
    async (req) => answer(req.id, clock),
  );

  app.post<{ Params: ProjectParams; Body: AdvanceBody }>(
    '/clock/advance',
    {
      schema: controlSchema({
        operationId: 'OpenCphAdvanceClock',
        summary: 'Move the virtual clock on (by_ms, by) or to an instant (to); answers once the work due up to then has run',
        description:
          'Timers fall due in order, each at its own instant, and the jobs each sets off run until they finish or wait again before the next fires. The clock is node-wide: any project may move it. 409 CPS.0970 on a real clock.',
        body: advanceBody,
        ok: clockAnswer,
        otherAnswers: { 409: { description: 'The clock is real', ...errorBody } },
      }),
    },
    async (req) => {
      const step = stepOf(req.body ?? {}, clock.now());
      if (!(clock instanceof VirtualClock)) throw new CphError(Errors.clockNotVirtual);
      // Advances take turns; a step is from where the clock stands when this one's turn comes.
      if ('by' in step) await clock.advance(step.by);
      else await clock.advanceTo(step.to);
      return answer(req.id, clock);
    },
  );
}
