import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { formatUtc } from '../domain/time.js';
import { parseRule } from '../engine/rules.js';
import { errorResponses, projectParams, requestIdOnly } from '../http/schemas/common.js';
import type { RouteDeps } from '../http/types.js';
import { deleteRules, insertRule, listRules, type RuleView } from '../store/rules.js';

type ProjectParams = { project_id: string };
type RuleParams = ProjectParams & { rule_id: string };

const ruleParams = {
  type: 'object',
  required: ['project_id', 'rule_id'],
  properties: { ...projectParams.properties, rule_id: { type: 'string', maxLength: 64 } },
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
    create_time: { type: 'string' },
  },
} as const;

function ruleWire(r: RuleView) {
  return { rule_id: r.ruleId, match: r.match, outcome: r.outcome, remaining: r.remaining, matched: r.matched, create_time: formatUtc(r.createdAt) };
}

/**
 * Scripted outcomes (issue 19 part 1): rules that decide what the project's jobs do when they run,
 * instead of the driver. Validation answers CPS.0034 naming the first bad field.
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
}
