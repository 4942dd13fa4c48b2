import { sql } from 'kysely';
import type { ActiveRule, RuleMatch, RuleOutcome, RuleSpec } from '../engine/rules.js';
import { readRows, type Db, type ReadStore } from './db.js';

/** Scripted outcomes of /_opencph (migration 016). Every function takes the project: another's rules are not there. */

export interface RuleView {
  ruleId: string;
  match: RuleMatch;
  outcome: RuleOutcome;
  /** Uses left; null = every matching job. */
  remaining: number | null;
  matched: number;
  createdAt: number;
}

export async function insertRule(db: Db, projectId: string, ruleId: string, spec: RuleSpec, now: number): Promise<void> {
  await db
    .insertInto('rules')
    .values({ rule_id: ruleId, project_id: projectId, match_json: JSON.stringify(spec.match), outcome_json: JSON.stringify(spec.outcome), remaining: spec.times ?? null, created_at: now })
    .execute();
}

/** The project's rules, oldest first, spent ones included (with remaining 0). */
export async function listRules(store: ReadStore, projectId: string): Promise<RuleView[]> {
  const rows = await readRows(store, store.db.selectFrom('rules').selectAll().where('project_id', '=', projectId).orderBy('seq'));
  return rows.map((r) => ({
    ruleId: r.rule_id,
    match: JSON.parse(r.match_json) as RuleMatch,
    outcome: JSON.parse(r.outcome_json) as RuleOutcome,
    remaining: r.remaining,
    matched: r.matched,
    createdAt: r.created_at,
  }));
}

/** Delete one rule (false when the project has no such rule) or, without an id, all of them. */
export async function deleteRules(db: Db, projectId: string, ruleId?: string): Promise<boolean> {
  let q = db.deleteFrom('rules').where('project_id', '=', projectId);
  if (ruleId !== undefined) q = q.where('rule_id', '=', ruleId);
  const r = await q.executeTakeFirst();
  return ruleId === undefined || Number(r.numDeletedRows) > 0;
}

/** The usable rules of these projects, oldest first: one query per claimed batch of jobs. */
export async function activeRules(db: Db, projectIds: readonly string[]): Promise<ActiveRule[]> {
  if (projectIds.length === 0) return [];
  const rows = await db
    .selectFrom('rules')
    .select(['rule_id', 'project_id', 'match_json', 'outcome_json'])
    .where('project_id', 'in', [...new Set(projectIds)])
    .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]))
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ruleId: r.rule_id, projectId: r.project_id, match: JSON.parse(r.match_json) as RuleMatch, outcome: JSON.parse(r.outcome_json) as RuleOutcome }));
}

/**
 * Take one use of a rule: false when it is spent (or deleted) meanwhile. One conditional UPDATE, so
 * two workers can never both take a rule's last use.
 */
export async function takeRuleUse(db: Db, ruleId: string): Promise<boolean> {
  const r = await db
    .updateTable('rules')
    .set({ remaining: sql<number | null>`case when remaining is null then null else remaining - 1 end`, matched: sql<number>`matched + 1` })
    .where('rule_id', '=', ruleId)
    .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
