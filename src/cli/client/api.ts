import { Limits } from '../../domain/limits.js';
import { CliError } from './errors.js';
import type { Session } from './session.js';

/** The CPH calls the client verbs make, typed as far as the verbs read them (README "The API"). */

export interface Phone {
  phone_id: string;
  phone_name: string;
  server_id: string;
  status: number;
  phone_model_name?: string;
  image_id?: string;
  [field: string]: unknown;
}

export interface Server {
  server_id: string;
  server_name: string;
  status: number;
  server_model_name?: string;
  phone_model_name?: string;
  [field: string]: unknown;
}

export interface Job {
  job_id: string;
  phone_id?: string;
  server_id?: string;
  encode_server_id?: string;
  status: number;
  begin_time?: string;
  end_time?: string | null;
  error_code?: string | null;
  error_msg?: string | null;
  execute_msg?: string | null;
  /** Which request the job belongs to (set by the client when it polls several). */
  request_id?: string;
}

/** A batch call's answer: the request and its jobs (a refused item carries its error_code). */
export interface Submitted {
  request_id: string;
  jobs: Job[];
}

const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

export async function listPhones(s: Session, filter: { server_id?: string; status?: number; phone_name?: string } = {}): Promise<Phone[]> {
  const out: Phone[] = [];
  for (let offset = 0; ; ) {
    const page = await s.cph<{ phones?: Phone[]; count?: number }>('GET', `/phones${q({ ...filter, offset, limit: Limits.listPhones.limitMax })}`);
    const phones = page.phones ?? [];
    out.push(...phones);
    offset += phones.length;
    if (phones.length < Limits.listPhones.limitMax || (page.count !== undefined && offset >= page.count)) return out;
  }
}

export async function listServers(s: Session): Promise<Server[]> {
  const out: Server[] = [];
  for (let offset = 0; ; ) {
    const page = await s.cph<{ servers?: Server[]; count?: number }>('GET', `/servers${q({ offset, limit: Limits.listServers.limitMax })}`);
    const servers = page.servers ?? [];
    out.push(...servers);
    offset += servers.length;
    if (servers.length < Limits.listServers.limitMax || (page.count !== undefined && offset >= page.count)) return out;
  }
}

export const showPhone = (s: Session, id: string) => s.cph<Phone>('GET', `/phones/${encodeURIComponent(id)}`);
export const showServer = (s: Session, id: string) => s.cph<Server>('GET', `/servers/${encodeURIComponent(id)}`);
export const renamePhone = (s: Session, id: string, name: string) => s.cph<unknown>('PUT', `/phones/${encodeURIComponent(id)}`, { phone_name: name });

export const restartPhones = (s: Session, ids: string[]) => s.cph<Submitted>('POST', '/phones/batch-restart', { phones: ids.map((phone_id) => ({ phone_id })) });
export const resetPhones = (s: Session, ids: string[]) => s.cph<Submitted>('POST', '/phones/batch-reset', { phones: ids.map((phone_id) => ({ phone_id })) });
export const stopPhones = (s: Session, ids: string[]) => s.cph<Submitted>('POST', '/phones/batch-stop', { phone_ids: ids });
export const restartServers = (s: Session, ids: string[]) => s.cph<Submitted>('POST', '/servers/batch-restart', { server_ids: ids });

/** InstallApk, UninstallApk, PushFile, RunShellCommand: one job per phone. */
export const runCommand = (s: Session, command: 'install' | 'uninstall' | 'push' | 'shell', content: string, phoneIds: string[]) =>
  s.cph<Submitted>('POST', '/phones/commands', { command, content, phone_ids: phoneIds });

/** RunSyncCommand: at most 15 phones a call; each job answered inline. */
export const runSyncCommand = (s: Session, content: string, phoneIds: string[]) =>
  s.cph<Submitted>('POST', '/phones/sync-commands', { command: 'shell', content, phone_ids: phoneIds });

export const showJob = (s: Session, jobId: string) => s.cph<Job & { request_id: string }>('GET', `/jobs/${encodeURIComponent(jobId)}`);

/** Every job of the requests (ListJobs with request_ids, 20 a call, every page); marked with its request when there is one. */
export async function listJobs(s: Session, requestIds: string[]): Promise<Job[]> {
  const out: Job[] = [];
  const { maxRequestIds, limitMax } = Limits.listJobs;
  for (let i = 0; i < requestIds.length; i += maxRequestIds) {
    const ids = requestIds.slice(i, i + maxRequestIds);
    for (let offset = 0; ; ) {
      const params = ids.length === 1 ? { request_id: ids[0] } : { request_ids: ids.join(',') };
      const page = await s.cph<{ jobs?: Job[]; count?: number }>('GET', `/jobs${q({ ...params, offset, limit: limitMax })}`);
      const jobs = page.jobs ?? [];
      out.push(...jobs.map((j) => ({ ...j, request_id: j.request_id ?? (ids.length === 1 ? ids[0] : undefined) })));
      offset += jobs.length;
      if (jobs.length < limitMax || (page.count !== undefined && offset >= page.count)) break;
    }
  }
  return out;
}

// ---------- targets ----------

/** Phones named by id or name, plus every phone of each `--server` (by id or name); in order, once each. */
export async function resolvePhones(s: Session, names: readonly string[], servers: readonly string[] = []): Promise<Phone[]> {
  if (names.length === 0 && servers.length === 0) throw new CliError('Name at least one phone (by id or name), or give --server.');
  const phones = await listPhones(s);
  const out = new Map<string, Phone>();
  for (const name of names) {
    const p = pick(phones, name, (x) => x.phone_id, (x) => x.phone_name, 'phone', 'opencph phones list');
    out.set(p.phone_id, p);
  }
  if (servers.length > 0) {
    const all = await listServers(s);
    for (const name of servers) {
      const server = pick(all, name, (x) => x.server_id, (x) => x.server_name, 'server', 'opencph servers list');
      const of = phones.filter((p) => p.server_id === server.server_id);
      if (of.length === 0) throw new CliError(`Server ${server.server_name} (${server.server_id}) has no phones.`);
      for (const p of of) out.set(p.phone_id, p);
    }
  }
  return [...out.values()];
}

export async function resolveServers(s: Session, names: readonly string[]): Promise<Server[]> {
  if (names.length === 0) throw new CliError('Name at least one server (by id or name).');
  const all = await listServers(s);
  const out = new Map<string, Server>();
  for (const name of names) {
    const server = pick(all, name, (x) => x.server_id, (x) => x.server_name, 'server', 'opencph servers list');
    out.set(server.server_id, server);
  }
  return [...out.values()];
}

function pick<T>(items: readonly T[], name: string, id: (x: T) => string, label: (x: T) => string, kind: string, lister: string): T {
  const byId = items.find((x) => id(x) === name);
  if (byId) return byId;
  const byName = items.filter((x) => label(x) === name);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new CliError(`${byName.length} ${kind}s are named "${name}" (${byName.map(id).join(', ')}): name one by its id.`);
  throw new CliError(`No ${kind} with the id or name "${name}" in this project (\`${lister}\` shows them).`);
}
