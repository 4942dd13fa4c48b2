import { sql, type Expression, type RawBuilder } from 'kysely';
import type { ActiveRule, RuleMatch, RuleOutcome, RuleSpec } from '../engine/rules.js';
import { readRows, type Db, type ReadStore } from './db.js';

/**
 * Scripted outcomes of /_opencph (migrations 016, 020). Every function the routes call takes the
 * project: another's rules and held jobs are not there.
 */

export interface RuleView {
  ruleId: string;
  match: RuleMatch;
  outcome: RuleOutcome;
  /** Uses left; null = every matching job. */
  remaining: number | null;
  matched: number;
  /** Jobs that met the match while the rule was in force. */
  seen: number;
  createdAt: number;
}

export async function insertRule(db: Db, projectId: string, ruleId: string, spec: RuleSpec, now: number): Promise<void> {
  await db
    .insertInto('rules')
    .values({
      rule_id: ruleId,
      project_id: projectId,
      match_json: JSON.stringify(spec.match),
      outcome_json: JSON.stringify(spec.outcome),
      remaining: spec.times ?? null,
      refuse: spec.outcome.refuse ? 1 : 0,
      created_at: now,
    })
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
    seen: r.seen,
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

/**
 * 1 when `project` has a usable rule that acts at submission (`refuse`) or when jobs run, else 0.
 * Meant for a statement the caller runs anyway (the request's INSERT, the claim's UPDATE), so a
 * project without rules pays an index probe there instead of a statement of its own (decision 32).
 * `then` stands for the 1 when the caller needs something done only for a project with rules.
 */
export function hasUsableRules(project: Expression<string>, refuse: boolean, then: RawBuilder<number> = sql<number>`1`): RawBuilder<number> {
  return sql<number>`case when exists (select 1 from rules where rules.project_id = ${project} and rules.refuse = ${sql.lit(refuse ? 1 : 0)} and (rules.remaining is null or rules.remaining > 0)) then ${then} else 0 end`;
}

/**
 * The usable rules of these projects, oldest first: those that act when jobs run (one query per
 * claimed batch whose projects have some), or with `refuse` those that act at submission (one per
 * submitted batch whose project has some). hasUsableRules tells whether to ask.
 */
export async function activeRules(db: Db, projectIds: readonly string[], refuse = false): Promise<ActiveRule[]> {
  if (projectIds.length === 0) return [];
  const rows = await db
    .selectFrom('rules')
    .select(['rule_id', 'project_id', 'match_json', 'outcome_json'])
    .where('project_id', 'in', [...new Set(projectIds)])
    .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]))
    .where('refuse', '=', refuse ? 1 : 0)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ruleId: r.rule_id, projectId: r.project_id, match: JSON.parse(r.match_json) as RuleMatch, outcome: JSON.parse(r.outcome_json) as RuleOutcome }));
}

/**
 * Take one use of a rule: false when it is spent (or deleted) meanwhile. One conditional UPDATE, so
 * two workers can never both take a rule's last use. `countSeen` counts the job as seen in the same
 * statement (a rule without nth/probability; the others count first, with countRuleSeen).
 */
export async function takeRuleUse(db: Db, ruleId: string, countSeen: boolean): Promise<boolean> {
  const r = await db
    .updateTable('rules')
    .set({
      remaining: sql<number | null>`case when remaining is null then null else remaining - 1 end`,
      matched: sql<number>`matched + 1`,
      ...(countSeen ? { seen: sql<number>`seen + 1` } : {}),
    })
    .where('rule_id', '=', ruleId)
    .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Count one more job as seen by a rule still in force: its number (1-based), the same whichever
 * node asks, or undefined when the rule is spent or deleted meanwhile.
 */
export async function countRuleSeen(db: Db, ruleId: string): Promise<number | undefined> {
  const r = await db
    .updateTable('rules')
    .set({ seen: sql<number>`seen + 1` })
    .where('rule_id', '=', ruleId)
    .where((eb) => eb.or([eb('remaining', 'is', null), eb('remaining', '>', 0)]))
    .returning('seen')
    .executeTakeFirst();
  return r === undefined ? undefined : Number(r.seen);
}

export interface HeldJobView {
  jobId: string;
  ruleId: string;
  operation: string;
  phoneId: string | null;
  serverId: string | null;
  since: number;
}

/** Hold a job's current attempt (again, after a re-queue: the row is replaced). */
export async function holdJob(db: Db, h: { jobId: string; projectId: string; ruleId: string; attempt: number; since: number }): Promise<void> {
  const row = { job_id: h.jobId, project_id: h.projectId, rule_id: h.ruleId, attempt: h.attempt, since: h.since, release_json: null, released_at: null };
  await db
    .insertInto('held_jobs')
    .values(row)
    .onConflict((oc) => oc.column('job_id').doUpdateSet({ project_id: h.projectId, rule_id: h.ruleId, attempt: h.attempt, since: h.since, release_json: null, released_at: null }))
    .execute();
}

/**
 * The project's jobs held now, oldest first (or the one `jobId`): a row counts while its job is
 * running that very attempt, so a job re-queued after its node died is not listed by an old row.
 */
export async function listHeldJobs(store: ReadStore, projectId: string, jobId?: string): Promise<HeldJobView[]> {
  let q = store.db
    .selectFrom('held_jobs as h')
    .innerJoin('jobs as j', 'j.job_id', 'h.job_id')
    .select(['h.job_id', 'h.rule_id', 'j.operation', 'j.phone_id', 'j.server_id', 'h.since'])
    .where('h.project_id', '=', projectId)
    .where('h.released_at', 'is', null)
    .where('j.status', '=', 1)
    .whereRef('j.attempts', '=', 'h.attempt');
  if (jobId !== undefined) q = q.where('h.job_id', '=', jobId);
  const rows = await readRows(store, q.orderBy('h.since').orderBy('h.job_id'));
  return rows.map((r) => ({ jobId: r.job_id, ruleId: r.rule_id, operation: r.operation, phoneId: r.phone_id, serverId: r.server_id, since: Number(r.since) }));
}

/** Release a held job with an outcome: false when the project holds no such job (now). */
export async function releaseHeldJob(db: Db, projectId: string, jobId: string, outcome: RuleOutcome, now: number): Promise<boolean> {
  const r = await db
    .updateTable('held_jobs')
    .set({ release_json: JSON.stringify(outcome), released_at: now })
    .where('job_id', '=', jobId)
    .where('project_id', '=', projectId)
    .where('released_at', 'is', null)
    .where('attempt', '=', (eb) => eb.selectFrom('jobs').select('jobs.attempts').where('jobs.job_id', '=', jobId).where('jobs.status', '=', 1))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The releases written for these held jobs: job id → the outcome it was released with. */
export async function releasesOf(db: Db, jobIds: readonly string[]): Promise<Map<string, RuleOutcome>> {
  if (jobIds.length === 0) return new Map();
  const rows = await db.selectFrom('held_jobs').select(['job_id', 'release_json']).where('job_id', 'in', [...jobIds]).where('released_at', 'is not', null).execute();
  return new Map(rows.map((r) => [r.job_id, JSON.parse(r.release_json ?? '{}') as RuleOutcome]));
}

/** The job is no longer held (released, timed out, or handed back). */
export async function dropHeldJob(db: Db, jobId: string): Promise<void> {
  await db.deleteFrom('held_jobs').where('job_id', '=', jobId).execute();
}
