import { createHmac } from 'node:crypto';
import type { PhoneCommand } from '../domain/commands.js';
import type { FleetEffects } from '../domain/fleet.js';
import { PHONE_STATUSES, SERVER_STATUSES } from '../domain/status.js';
import type { DriverJob, DriverOutcome } from '../fleet/driver.js';
import { commandOutcome } from '../fleet/outcome.js';
import type { Db } from '../store/db.js';
import { countRuleSeen, takeRuleUse } from '../store/rules.js';
import { operationByName } from './operations.js';

/**
 * Scripted outcomes (/_opencph rules): which jobs a rule matches and what such a job does instead
 * of running on the driver. Pure but for takeMatchingRule, which takes a rule's use in the store
 * (store/rules.ts keeps rules); the worker applies run-time rules, submit.ts the refusing ones.
 * Operations are named as the engine names its jobs (Operations in operations.ts: 'phone.restart',
 * 'phone.shell', 'server.restart', …), the names ListJobs-like tooling of OpenCPH already shows.
 */

export interface RuleMatch {
  operation: string;
  phone_id?: string;
  server_id?: string;
  /** A regular expression on an adb command's content (shell, install, push, uninstall). */
  command?: string;
  /** Decide from the nth job that meets the match (1-based, counted from the rule's creation). */
  nth?: number;
  /** Decide each job that meets the match with this probability (0 < p <= 1), drawn from `seed`. */
  probability?: number;
  /** The draw of the kth job is a function of (seed, k) alone; set (default 0) with `probability`. */
  seed?: number;
}

export interface RuleOutcome {
  fail?: { error_code: string; error_msg?: string; execute_msg?: string };
  duration_ms?: number;
  output?: string;
  exit_status?: number;
  phone_status?: number;
  server_status?: number;
  /** The job stays at status 1 until released (with an outcome) or until its time limit. */
  hang?: true;
  /** At submission: the job is written failed with this code, and its batch item answers with it. */
  refuse?: { error_code: string; error_msg?: string };
}

/** What a release of a held job may say of its outcome. */
export const RELEASE_OUTCOME_FIELDS = ['fail', 'output', 'exit_status', 'phone_status', 'server_status'] as const;
const RULE_OUTCOME_FIELDS = [...RELEASE_OUTCOME_FIELDS, 'duration_ms', 'hang', 'refuse'] as const;

export interface RuleSpec {
  match: RuleMatch;
  outcome: RuleOutcome;
  /** The next `times` decided jobs; absent = every one (but 1 with `nth`). */
  times?: number;
}

export interface ActiveRule {
  ruleId: string;
  projectId: string;
  match: RuleMatch;
  outcome: RuleOutcome;
}

/** The longest a rule may make a job take (the job's time limit still applies). */
export const MAX_RULE_DURATION_MS = 24 * 3600 * 1000;
const ADB_OPERATIONS = new Set(['phone.shell', 'phone.install', 'phone.uninstall', 'phone.push']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** Check a rule as posted; the name of the first bad field (for CPS.0034), or the rule. */
export function parseRule(body: unknown): { ok: true; rule: RuleSpec } | { ok: false; field: string } {
  const bad = (field: string) => ({ ok: false as const, field });
  if (!isObject(body)) return bad('match');
  const { match, outcome } = body;
  if (!isObject(match)) return bad('match');
  if (typeof match.operation !== 'string' || !operationByName(match.operation)) return bad('match.operation');
  for (const f of ['phone_id', 'server_id'] as const) if (match[f] !== undefined && !isText(match[f], 64)) return bad(`match.${f}`);
  if (match.command !== undefined) {
    if (!isText(match.command, 1024) || !ADB_OPERATIONS.has(match.operation)) return bad('match.command');
    try {
      new RegExp(match.command);
    } catch {
      return bad('match.command');
    }
  }
  if (match.times !== undefined && !isInt(match.times, 1, 1_000_000)) return bad('match.times');
  if (match.nth !== undefined && !isInt(match.nth, 1, 1_000_000)) return bad('match.nth');
  const p = match.probability;
  if (p !== undefined && !(typeof p === 'number' && p > 0 && p <= 1)) return bad('match.probability');
  if (match.seed !== undefined && (p === undefined || !isInt(match.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))) return bad('match.seed');
  const known = new Set(['operation', 'phone_id', 'server_id', 'command', 'times', 'nth', 'probability', 'seed']);
  const extra = Object.keys(match).find((k) => !known.has(k));
  if (extra) return bad(`match.${extra}`);

  const o = outcome === undefined ? {} : outcome;
  const checked = parseOutcome(o, match.operation, RULE_OUTCOME_FIELDS);
  if (!checked.ok) return checked;

  const { times, ...rest } = match;
  const ruleMatch = rest as unknown as RuleMatch;
  if (ruleMatch.probability !== undefined && ruleMatch.seed === undefined) ruleMatch.seed = 0;
  return { ok: true, rule: { match: ruleMatch, outcome: checked.outcome, times: (times as number | undefined) ?? (ruleMatch.nth !== undefined ? 1 : undefined) } };
}

/**
 * Check an outcome (a rule's, or a release's with `allowed` = RELEASE_OUTCOME_FIELDS) for a job of
 * `operation`: the first bad field, named from `outcome.`, or the outcome.
 */
export function parseOutcome(o: unknown, operation: string, allowed: readonly string[]): { ok: true; outcome: RuleOutcome } | { ok: false; field: string } {
  const bad = (field: string) => ({ ok: false as const, field });
  if (!isObject(o)) return bad('outcome');
  if (o.fail !== undefined) {
    if (!isObject(o.fail) || !isText(o.fail.error_code, 32)) return bad('outcome.fail.error_code');
    if (o.fail.error_msg !== undefined && !isText(o.fail.error_msg, 1024)) return bad('outcome.fail.error_msg');
    if (o.fail.execute_msg !== undefined && typeof o.fail.execute_msg !== 'string') return bad('outcome.fail.execute_msg');
  }
  if (o.duration_ms !== undefined && !isInt(o.duration_ms, 0, MAX_RULE_DURATION_MS)) return bad('outcome.duration_ms');
  if (o.output !== undefined && typeof o.output !== 'string') return bad('outcome.output');
  if (o.exit_status !== undefined && !isInt(o.exit_status, 0, 255)) return bad('outcome.exit_status');
  if ((o.output !== undefined || o.exit_status !== undefined) && !ADB_OPERATIONS.has(operation)) return bad(o.output !== undefined ? 'outcome.output' : 'outcome.exit_status');
  if (o.fail !== undefined && (o.output !== undefined || o.exit_status !== undefined)) return bad('outcome.fail');
  if (o.phone_status !== undefined && !(typeof o.phone_status === 'number' && PHONE_STATUSES.includes(o.phone_status))) return bad('outcome.phone_status');
  if (o.server_status !== undefined && !(typeof o.server_status === 'number' && SERVER_STATUSES.includes(o.server_status))) return bad('outcome.server_status');
  const others = (field: string) => Object.keys(o).some((k) => k !== field);
  // A held job's outcome is its release's; a refused job never runs, so neither takes other fields.
  if (o.hang !== undefined && (o.hang !== true || others('hang'))) return bad('outcome.hang');
  if (o.refuse !== undefined) {
    const r = o.refuse;
    if (!isObject(r) || !isText(r.error_code, 32)) return bad('outcome.refuse.error_code');
    if (r.error_msg !== undefined && !isText(r.error_msg, 1024)) return bad('outcome.refuse.error_msg');
    if (Object.keys(r).some((k) => k !== 'error_code' && k !== 'error_msg') || others('refuse')) return bad('outcome.refuse');
  }
  const extraOutcome = Object.keys(o).find((k) => !allowed.includes(k));
  if (extraOutcome) return bad(`outcome.${extraOutcome}`);
  return { ok: true, outcome: o as RuleOutcome };
}

/** The draw of the kth job (1-based) under `seed`: a number in [0, 1) that depends on nothing else. */
export function ruleDraw(seed: number, k: number): number {
  return createHmac('sha256', String(seed)).update(String(k)).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** Whether a rule with nth/probability decides the kth job that meets its match (uses left aside). */
export function ruleDecides(match: RuleMatch, k: number): boolean {
  if (k < (match.nth ?? 1)) return false;
  return match.probability === undefined || ruleDraw(match.seed ?? 0, k) < match.probability;
}

/** What ruleMatches looks at: a job about to run, or one about to be submitted. */
export interface MatchableJob {
  operation: string;
  params: Record<string, unknown>;
  phone?: { phoneId: string };
}

/**
 * The first of `rules` (oldest first) that matches the job and decides it, its use taken. A rule
 * with `nth` or `probability` counts the job as seen first (one conditional UPDATE, so the count is
 * the same on every node) and decides by that count; a use then taken by one conditional UPDATE,
 * so two nodes never both take a rule's last use. A rule that does not decide leaves the job to
 * the next one.
 */
export async function takeMatchingRule(db: Db, rules: readonly ActiveRule[], job: MatchableJob, serverId: string | undefined): Promise<ActiveRule | undefined> {
  for (const rule of rules) {
    if (!ruleMatches(rule.match, job, serverId)) continue;
    if (rule.match.nth === undefined && rule.match.probability === undefined) {
      if (await takeRuleUse(db, rule.ruleId, true)) return rule;
      continue;
    }
    const k = await countRuleSeen(db, rule.ruleId);
    if (k !== undefined && ruleDecides(rule.match, k) && (await takeRuleUse(db, rule.ruleId, false))) return rule;
  }
  return undefined;
}

/** An adb job's command as the caller wrote it, near enough for a pattern: the script, package, or OBS URIs. */
export function commandContent(params: Record<string, unknown>): string | undefined {
  const cmd = params.command as PhoneCommand | undefined;
  if (!cmd || typeof cmd !== 'object') return undefined;
  switch (cmd.command) {
    case 'shell':
      return cmd.script;
    case 'uninstall':
      return cmd.packageName;
    case 'push':
      return cmd.tar.uri;
    case 'install':
    case 'install-multiple':
      return cmd.apks.map((a) => a.uri).join(' ');
  }
}

export function ruleMatches(rule: RuleMatch, job: MatchableJob, serverId: string | undefined): boolean {
  if (rule.operation !== job.operation) return false;
  if (rule.phone_id !== undefined && rule.phone_id !== job.phone?.phoneId) return false;
  if (rule.server_id !== undefined && rule.server_id !== serverId) return false;
  if (rule.command !== undefined) {
    const content = commandContent(job.params);
    if (content === undefined || !new RegExp(rule.command).test(content)) return false;
  }
  return true;
}

/** What a job a rule matched ends with (its wait, duration_ms, is the worker's). */
export function ruleOutcome(o: RuleOutcome, job: Pick<DriverJob, 'phone' | 'server' | 'serverPhones'>): DriverOutcome {
  let outcome: DriverOutcome;
  if (o.fail) {
    outcome = { ok: false, errorCode: o.fail.error_code, errorMsg: o.fail.error_msg ?? 'The job failed as a rule of the test-control extension said.', executeMsg: o.fail.execute_msg };
  } else if (o.output !== undefined || o.exit_status !== undefined) {
    outcome = commandOutcome({ exitCode: o.exit_status ?? 0, output: o.output ?? '' });
  } else outcome = { ok: true };
  const effects: FleetEffects = {};
  if (o.phone_status !== undefined) {
    // A phone job leaves its phone so; a server job, every phone of the server.
    const phoneIds = job.phone ? [job.phone.phoneId] : (job.serverPhones ?? []).map((p) => p.phoneId);
    effects.phones = phoneIds.map((phoneId) => ({ phoneId, status: o.phone_status }));
  }
  if (o.server_status !== undefined && job.server) effects.servers = [{ serverId: job.server.serverId, status: o.server_status }];
  if (effects.phones || effects.servers) outcome.effects = effects;
  return outcome;
}
