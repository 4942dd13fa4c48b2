import { CphError, Errors, invalidParameter, targetError, type TargetError } from '../domain/errors.js';
import { isResourceId } from '../domain/ids.js';
import { projectEncodeServerIds } from '../store/encodeServers.js';
import { getPhonesOfServers, projectServerIds, serversOfPhones } from '../store/fleet.js';
import type { Db } from '../store/db.js';
import { insertRequest, type NewJob } from '../store/jobs.js';
import { activeRules } from '../store/rules.js';
import type { EngineDeps } from './deps.js';
import type { OperationDef } from './operations.js';
import { takeMatchingRule } from './rules.js';

export interface PhoneTarget {
  phoneId: string;
  params?: Record<string, unknown>;
  /** A problem found with this item before submission (e.g. a malformed property): it fails at once. */
  error?: TargetError;
}

/** One entry of a batch answer: CPH's PhoneJob / ServerJob / EncodeServerJob. */
export interface SubmittedJob {
  phone_id?: string;
  server_id?: string;
  encode_server_id?: string;
  job_id: string;
  error_code?: string;
  error_msg?: string;
}

export interface Submitted {
  requestId: string;
  jobs: SubmittedJob[];
}

export type OnSubmitted = (requestId: string) => void;

/**
 * `requestId` is the HTTP request's own id, so the answer's X-Request-Id and request_id agree.
 * A batch on phones becomes one request and one job per target, written in one transaction before
 * the caller answers. Targets that cannot run are written as failed jobs with their CPS code.
 */
export async function submitPhoneBatch(
  deps: EngineDeps,
  requestId: string,
  projectId: string,
  op: OperationDef,
  targets: readonly PhoneTarget[],
  onSubmitted?: OnSubmitted,
): Promise<Submitted> {
  const validIds = targets.map((t) => t.phoneId).filter(isResourceId);
  const servers = await serversOfPhones(deps.db, projectId, validIds);
  const jobs: NewJob[] = targets.map((t) => {
    const serverId = isResourceId(t.phoneId) ? servers.get(t.phoneId) : undefined;
    const failed = !isResourceId(t.phoneId)
      ? targetError(Errors.batchInvalidPhoneId)
      : serverId === undefined
        ? targetError(Errors.phoneNotFound)
        : t.error;
    return { jobId: deps.ids(), phoneId: t.phoneId, serverId: serverId ?? null, params: t.params ?? {}, failed };
  });
  return write(deps, requestId, projectId, op, jobs, onSubmitted);
}

/**
 * A phone batch addressed by server: one job per phone of each server, in the servers' order.
 * A server id that is not one of the project's answers with a failed item of its own (CPS.0097).
 * With `maxPhones`, more phones than that refuse the whole batch before anything is written.
 */
export async function submitServerPhonesBatch(
  deps: EngineDeps,
  requestId: string,
  projectId: string,
  op: OperationDef,
  serverIds: readonly string[],
  params: Record<string, unknown>,
  onSubmitted?: OnSubmitted,
  maxPhones?: number,
): Promise<Submitted> {
  const unique = [...new Set(serverIds)];
  const known = await projectServerIds(deps.db, projectId, unique.filter(isResourceId));
  const phones = await getPhonesOfServers(deps.db, [...known]);
  if (maxPhones !== undefined && phones.length > maxPhones) {
    throw new CphError(invalidParameter('server_ids'), `These servers have ${phones.length} phones; at most ${maxPhones} per call.`);
  }
  const jobs: NewJob[] = unique.flatMap((serverId): NewJob[] =>
    known.has(serverId)
      ? phones.filter((p) => p.server_id === serverId).map((p) => ({ jobId: deps.ids(), phoneId: p.phone_id, serverId, params }))
      : [{ jobId: deps.ids(), phoneId: null, serverId, params, failed: targetError(Errors.batchInvalidServerId) }],
  );
  return write(deps, requestId, projectId, op, jobs, onSubmitted);
}

/** One server of a server batch, with what its job needs and, when found before submission, why it cannot run. */
export interface ServerTarget {
  serverId: string;
  params?: Record<string, unknown>;
  error?: TargetError;
}

/** A batch on servers: one job per server (an id alone, or a ServerTarget with its parameters). */
export async function submitServerBatch(
  deps: EngineDeps,
  requestId: string,
  projectId: string,
  op: OperationDef,
  targets: readonly (string | ServerTarget)[],
  onSubmitted?: OnSubmitted,
): Promise<Submitted> {
  const items = targets.map((t): ServerTarget => (typeof t === 'string' ? { serverId: t } : t));
  const known = await projectServerIds(deps.db, projectId, items.map((t) => t.serverId).filter(isResourceId));
  const jobs: NewJob[] = items.map((t) => ({
    jobId: deps.ids(),
    phoneId: null,
    serverId: t.serverId,
    params: t.params ?? {},
    failed: known.has(t.serverId) ? t.error : targetError(Errors.batchInvalidServerId),
  }));
  return write(deps, requestId, projectId, op, jobs, onSubmitted);
}

/** A batch on encode servers: one job per id; an id that is not one of the project's fails with CPS.0930. */
export async function submitEncodeServerBatch(
  deps: EngineDeps,
  requestId: string,
  projectId: string,
  op: OperationDef,
  encodeServerIds: readonly string[],
  onSubmitted?: OnSubmitted,
): Promise<Submitted> {
  const known = await projectEncodeServerIds(deps.db, projectId, encodeServerIds.filter(isResourceId));
  const jobs: NewJob[] = encodeServerIds.map((id) => ({
    jobId: deps.ids(),
    phoneId: null,
    serverId: null,
    encodeServerId: id,
    params: {},
    failed: known.has(id) ? undefined : targetError(Errors.batchInvalidEncodeServerId),
  }));
  return write(deps, requestId, projectId, op, jobs, onSubmitted);
}

/**
 * Jobs on servers the same call creates (a purchase): `prepare` writes the servers in the
 * transaction that writes the request and its jobs, so no server is left without its job.
 */
export async function submitNewServerBatch(
  deps: EngineDeps,
  requestId: string,
  projectId: string,
  op: OperationDef,
  targets: readonly ServerTarget[],
  prepare: (trx: Db) => Promise<void>,
  onSubmitted?: OnSubmitted,
): Promise<Submitted> {
  const jobs: NewJob[] = targets.map((t) => ({ jobId: deps.ids(), phoneId: null, serverId: t.serverId, params: t.params ?? {}, failed: t.error }));
  return write(deps, requestId, projectId, op, jobs, onSubmitted, prepare);
}

/** The field a job answers by: its phone, else its encode server, else its server (also an unknown server of a phone batch addressed by server). */
function targetOf(j: NewJob): [keyof SubmittedJob, string] {
  if (j.phoneId !== null) return ['phone_id', j.phoneId];
  if (j.encodeServerId != null) return ['encode_server_id', j.encodeServerId];
  return ['server_id', j.serverId!];
}

const REFUSED_MSG = 'The item was refused as a rule of the test-control extension said.';

/**
 * Scripted refusals (rules with outcome.refuse): each item a rule decides is written failed with the
 * rule's code. Called inside the submission's transaction, and only when the request's INSERT found
 * refusing rules for the project (decision 32): one query reads them, then a use is taken per
 * decided item, as the worker takes one per decided job.
 */
async function refuseByRules(db: Db, projectId: string, op: OperationDef, jobs: NewJob[]): Promise<void> {
  // On PostgreSQL the request's INSERT took the event writers' turn (insertRequest): two submissions
  // never hold uses of the same rules at once, and none waits on a restore while holding rule rows.
  const rules = await activeRules(db, [projectId], true);
  for (const j of jobs) {
    if (j.failed) continue;
    const job = { operation: op.name, params: (j.params ?? {}) as Record<string, unknown>, phone: j.phoneId !== null ? { phoneId: j.phoneId } : undefined };
    const rule = await takeMatchingRule(db, rules, job, j.serverId ?? undefined);
    if (rule?.outcome.refuse) j.failed = { code: rule.outcome.refuse.error_code, message: rule.outcome.refuse.error_msg ?? REFUSED_MSG };
  }
}

/** The codes of the jobs written already failed (usually none: no array is made then). */
function failedCodes(jobs: readonly NewJob[]): readonly string[] {
  let codes: string[] | undefined;
  for (const j of jobs) if (j.failed) (codes ??= []).push(j.failed.code);
  return codes ?? NONE;
}
const NONE: readonly string[] = [];

async function write(
  deps: EngineDeps,
  requestId: string,
  projectId: string,
  op: OperationDef,
  jobs: NewJob[],
  onSubmitted?: OnSubmitted,
  prepare?: (trx: Db) => Promise<void>,
): Promise<Submitted> {
  const now = deps.clock.now();
  // A batch whose items all failed already has nothing a rule could refuse.
  const refuse = jobs.some((j) => !j.failed) ? (trx: Db) => refuseByRules(trx, projectId, op, jobs) : undefined;
  await deps.db.transaction().execute(async (trx) => {
    await prepare?.(trx);
    await insertRequest(trx, { requestId, projectId, operation: op.name, now, jobs }, refuse);
  });
  onSubmitted?.(requestId);
  const codes = failedCodes(jobs);
  deps.metrics?.submitted(op.name, jobs.length, codes);
  deps.log.info({ requestId, operation: op.name, jobs: jobs.length, failed: codes.length }, 'batch submitted');
  return {
    requestId,
    jobs: jobs.map((j) => {
      const [k, target] = targetOf(j);
      return j.failed
        ? { [k]: target, job_id: j.jobId, error_code: j.failed.code, error_msg: j.failed.message }
        : { [k]: target, job_id: j.jobId };
    }),
  };
}
