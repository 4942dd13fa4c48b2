import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { formatUtc } from '../domain/time.js';
import { parseOutcome, parseRule, RELEASE_OUTCOME_FIELDS } from '../engine/rules.js';
import { requestIdOnly } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { deleteRules, insertRule, listHeldJobs, listRules, releaseHeldJob, type HeldJobView, type RuleView } from '../store/rules.js';
import { controlSchema, paramsWith, type ProjectParams } from './schema.js';

type RuleParams = ProjectParams & { rule_id: string };
type JobParams = ProjectParams & { job_id: string };

const anyObject = { type: 'object', additionalProperties: true } as const;
const ruleBody = {
  type: 'object',
  properties: {
    rule_id: { type: 'string' },
    match: anyObject,
    outcome: anyObject,
    remaining: { type: ['integer', 'null'], description: 'Uses left; null = every matching job' },
    matched: { type: 'integer', description: 'How many jobs the rule decided' },
    seen: { type: 'integer', description: 'How many jobs met the match while the rule was in force' },
    create_time: { type: 'string' },
  },
} as const;

const heldJobBody = {
  type: 'object',
  properties: {
    job_id: { type: 'string' },
    rule_id: { type: 'string' },
    operation: { type: 'string' },
    phone_id: { type: 'string' },
    server_id: { type: 'string' },
    since: { type: 'string', description: 'When the rule began to hold the job' },
  },
} as const;

function ruleWire(r: RuleView) {
  return { rule_id: r.ruleId, match: r.match, outcome: r.outcome, remaining: r.remaining, matched: r.matched, seen: r.seen, create_time: formatUtc(r.createdAt) };
}

function heldWire(h: HeldJobView) {
  return {
    job_id: h.jobId,
    rule_id: h.ruleId,
    operation: h.operation,
    ...(h.phoneId !== null ? { phone_id: h.phoneId } : {}),
    ...(h.serverId !== null ? { server_id: h.serverId } : {}),
    since: formatUtc(h.since),
  };
}

/**
 * Scripted outcomes: rules that decide what the project's jobs do when they run, instead of the
 * driver, or refuse them at submission; and the jobs rules hold, listed and released. Validation
 * answers CPS.0034 naming the first bad field.
 */
export async function ruleRoutes(app: FastifyInstance, { store, engine }: RouteDeps): Promise<void> {
  const db = store.db;

  app.post<{ Params: ProjectParams; Body: unknown }>(
    '/rules',
    {
      schema: controlSchema({
        operationId: 'OpenCphCreateRule',
        summary: 'Create a rule: the jobs it matches (match) end as it says (outcome) without running on the driver',
        body: { type: 'object', required: ['match'], properties: { match: anyObject, outcome: anyObject } },
        ok: { type: 'object', properties: { request_id: { type: 'string' }, rule: ruleBody } },
      }),
    },
    async (req) => {
      const parsed = parseRule(req.body);
      if (!parsed.ok) throw new CphError(invalidParameter(parsed.field));
      const ruleId = newId();
      await insertRule(db, req.params.project_id, ruleId, parsed.rule, engine.deps.clock.now());
      const rule = (await listRules(store, req.params.project_id)).find((r) => r.ruleId === ruleId)!;
      return { request_id: req.id, rule: ruleWire(rule) };
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/rules',
    {
      schema: controlSchema({
        operationId: 'OpenCphListRules',
        summary: "The project's rules, oldest first (the order they are tried in), with how often each matched",
        ok: { type: 'object', properties: { request_id: { type: 'string' }, rules: { type: 'array', items: ruleBody } } },
      }),
    },
    async (req) => ({ request_id: req.id, rules: (await listRules(store, req.params.project_id)).map(ruleWire) }),
  );

  app.delete<{ Params: RuleParams }>(
    '/rules/:rule_id',
    { schema: controlSchema({ operationId: 'OpenCphDeleteRule', summary: 'Delete a rule', params: paramsWith('rule_id'), ok: requestIdOnly }) },
    async (req) => {
      if (!(await deleteRules(db, req.params.project_id, req.params.rule_id))) throw new CphError(Errors.ruleNotFound);
      return { request_id: req.id };
    },
  );

  app.delete<{ Params: ProjectParams }>(
    '/rules',
    { schema: controlSchema({ operationId: 'OpenCphClearRules', summary: "Delete all the project's rules", ok: requestIdOnly }) },
    async (req) => {
      await deleteRules(db, req.params.project_id);
      return { request_id: req.id };
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/held-jobs',
    {
      schema: controlSchema({
        operationId: 'OpenCphListHeldJobs',
        summary: "The project's jobs a rule holds at status 1 (outcome.hang), oldest first",
        ok: { type: 'object', properties: { request_id: { type: 'string' }, jobs: { type: 'array', items: heldJobBody } } },
      }),
    },
    async (req) => ({ request_id: req.id, jobs: (await listHeldJobs(store, req.params.project_id)).map(heldWire) }),
  );

  app.post<{ Params: JobParams; Body: { outcome?: unknown } | undefined }>(
    '/jobs/:job_id/release',
    {
      schema: controlSchema({
        operationId: 'OpenCphReleaseJob',
        summary: 'Release a held job: it ends as `outcome` says (fail, output, exit_status, phone_status, server_status; none = success)',
        params: paramsWith('job_id'),
        body: { type: 'object', properties: { outcome: anyObject } },
        ok: requestIdOnly,
      }),
      // No body at all is a release with nothing: success.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => {
      const { project_id: projectId, job_id: jobId } = req.params;
      const [held] = await listHeldJobs(store, projectId, jobId);
      if (!held) throw new CphError(Errors.heldJobNotFound);
      const parsed = parseOutcome(req.body?.outcome ?? {}, held.operation, RELEASE_OUTCOME_FIELDS);
      if (!parsed.ok) throw new CphError(invalidParameter(parsed.field));
      if (!(await releaseHeldJob(db, projectId, jobId, parsed.outcome, engine.deps.clock.now()))) throw new CphError(Errors.heldJobNotFound);
      // The holding worker looks at once on this node; on others, at a PostgreSQL notification or its next poll.
      engine.wake();
      return { request_id: req.id };
    },
  );
}
