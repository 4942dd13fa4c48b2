import type { PhoneCommand } from '../domain/commands.js';
import type { FleetEffects } from '../domain/fleet.js';
import { PHONE_STATUSES, SERVER_STATUSES } from '../domain/status.js';
import type { DriverJob, DriverOutcome } from '../fleet/driver.js';
import { commandOutcome } from '../fleet/outcome.js';
import { operationByName } from './operations.js';

/**
 * Scripted outcomes (/_opencph rules): which jobs a rule matches and what such a job does instead
 * of running on the driver. Pure: the store keeps rules (store/rules.ts), the worker applies them.
 * Operations are named as the engine names its jobs (Operations in operations.ts: 'phone.restart',
 * 'phone.shell', 'server.restart', …), the names ListJobs-like tooling of OpenCPH already shows.
 */

export interface RuleMatch {
  operation: string;
  phone_id?: string;
  server_id?: string;
  /** A regular expression on an adb command's content (shell, install, push, uninstall). */
  command?: string;
}

export interface RuleOutcome {
  fail?: { error_code: string; error_msg?: string; execute_msg?: string };
  duration_ms?: number;
  output?: string;
  exit_status?: number;
  phone_status?: number;
  server_status?: number;
}

export interface RuleSpec {
  match: RuleMatch;
  outcome: RuleOutcome;
  /** The next `times` matching jobs; absent = every one. */
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
  const known = new Set(['operation', 'phone_id', 'server_id', 'command', 'times']);
  const extra = Object.keys(match).find((k) => !known.has(k));
  if (extra) return bad(`match.${extra}`);

  const o = outcome === undefined ? {} : outcome;
  if (!isObject(o)) return bad('outcome');
  if (o.fail !== undefined) {
    if (!isObject(o.fail) || !isText(o.fail.error_code, 32)) return bad('outcome.fail.error_code');
    if (o.fail.error_msg !== undefined && !isText(o.fail.error_msg, 1024)) return bad('outcome.fail.error_msg');
    if (o.fail.execute_msg !== undefined && typeof o.fail.execute_msg !== 'string') return bad('outcome.fail.execute_msg');
  }
  if (o.duration_ms !== undefined && !isInt(o.duration_ms, 0, MAX_RULE_DURATION_MS)) return bad('outcome.duration_ms');
  if (o.output !== undefined && typeof o.output !== 'string') return bad('outcome.output');
  if (o.exit_status !== undefined && !isInt(o.exit_status, 0, 255)) return bad('outcome.exit_status');
  if ((o.output !== undefined || o.exit_status !== undefined) && !ADB_OPERATIONS.has(match.operation)) return bad(o.output !== undefined ? 'outcome.output' : 'outcome.exit_status');
  if (o.fail !== undefined && (o.output !== undefined || o.exit_status !== undefined)) return bad('outcome.fail');
  if (o.phone_status !== undefined && !(typeof o.phone_status === 'number' && PHONE_STATUSES.includes(o.phone_status))) return bad('outcome.phone_status');
  if (o.server_status !== undefined && !(typeof o.server_status === 'number' && SERVER_STATUSES.includes(o.server_status))) return bad('outcome.server_status');
  const knownOutcome = new Set(['fail', 'duration_ms', 'output', 'exit_status', 'phone_status', 'server_status']);
  const extraOutcome = Object.keys(o).find((k) => !knownOutcome.has(k));
  if (extraOutcome) return bad(`outcome.${extraOutcome}`);

  const { times, ...rest } = match;
  return { ok: true, rule: { match: rest as unknown as RuleMatch, outcome: o as RuleOutcome, times: times as number | undefined } };
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

export function ruleMatches(rule: RuleMatch, job: Pick<DriverJob, 'operation' | 'params' | 'phone' | 'server'>, serverId: string | undefined): boolean {
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
