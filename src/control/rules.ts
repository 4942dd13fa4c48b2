import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { formatUtc } from '../domain/time.js';
import { parseOutcome, parseRule, RELEASE_OUTCOME_FIELDS } from '../engine/rules.js';
import { errorResponses, projectParams, requestIdOnly } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { deleteRules, insertRule, listHeldJobs, listRules, releaseHeldJob, type HeldJobView, type RuleView } from '../store/rules.js';

type ProjectParams = { project_id: string };
type RuleParams = ProjectParams & { rule_id: string };
type JobParams = ProjectParams & { job_id: string };

const ruleParams = {
  type: 'object',
  required: ['project_id', 'rule_id'],
  properties: { ...projectParams.properties, rule_id: { type: 'string', maxLength: 64 } },
} as const;

const jobParams = {
  type: 'object',
  required: ['project_id', 'job_id'],
  properties: { ...projectParams.properties, job_id: { type: 'string', maxLength: 64 } },
} as const;

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
  const tags = ['opencph'];
  const db = store.db;

  app.post<{ Params: ProjectParams; Body: unknown }>(
    '/rules',
    {
      schema: {
        operationId: 'OpenCphCreateRule',
        summary: 'Create a rule: the jobs it matches (match) end as it says (outcome) without running on the driver',
        tags,
        params: projectParams,
        body: { type: 'object', required: ['match'], properties: { match: anyObject, outcome: anyObject } },
        response: { 200: { type: 'object', properties: { request_id: { type: 'string' }, rule: ruleBody } }, ...errorResponses },
      },
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
      schema: {
        operationId: 'OpenCphListRules',
        summary: "The project's rules, oldest first (the order they are tried in), with how often each matched",
        tags,
        params: projectParams,
        response: { 200: { type: 'object', properties: { request_id: { type: 'string' }, rules: { type: 'array', items: ruleBody } } }, ...errorResponses },
      },
    },
    async (req) => ({ request_id: req.id, rules: (await listRules(store, req.params.project_id)).map(ruleWire) }),
  );

  app.delete<{ Params: RuleParams }>(
    '/rules/:rule_id',
    { schema: { operationId: 'OpenCphDeleteRule', summary: 'Delete a rule', tags, params: ruleParams, response: { 200: requestIdOnly, ...errorResponses } } },
    async (req) => {
      if (!(await deleteRules(db, req.params.project_id, req.params.rule_id))) throw new CphError(Errors.ruleNotFound);
      return { request_id: req.id };
    },
  );

  app.delete<{ Params: ProjectParams }>(
    '/rules',
    { schema: { operationId: 'OpenCphClearRules', summary: "Delete all the project's rules", tags, params: projectParams, response: { 200: requestIdOnly, ...errorResponses } } },
    async (req) => {
      await deleteRules(db, req.params.project_id);
      return { request_id: req.id };
    },
  );

  app.get<{ Params: ProjectParams }>(
    '/held-jobs',
    {
      schema: {
        operationId: 'OpenCphListHeldJobs',
        summary: "The project's jobs a rule holds at status 1 (outcome.hang), oldest first",
        tags,
        params: projectParams,
        response: { 200: { type: 'object', properties: { request_id: { type: 'string' }, jobs: { type: 'array', items: heldJobBody } } }, ...errorResponses },
      },
    },
    async (req) => ({ request_id: req.id, jobs: (await listHeldJobs(store, req.params.project_id)).map(heldWire) }),
  );

  app.post<{ Params: JobParams; Body: { outcome?: unknown } | undefined }>(
    '/jobs/:job_id/release',
    {
      schema: {
        operationId: 'OpenCphReleaseJob',
        summary: 'Release a held job: it ends as `outcome` says (fail, output, exit_status, phone_status, server_status; none = success)',
        tags,
        params: jobParams,
        body: { type: 'object', properties: { outcome: anyObject } },
        response: { 200: requestIdOnly, ...errorResponses },
      },
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
