import { passwordLogin, PROJECT_ID } from '../../src/domain/iam.js';

/**
 * Calls to the server the console came from: CPH's API under /v1/{project_id}/cloud-phone and
 * OpenCPH's extension under /_opencph/v1/{project_id}, with the IAM token of the login.
 */

export interface Session {
  token: string;
  projectId: string;
  projectName: string;
  user: string;
  expiresAt: string;
}

/** An answer that is not 2xx, in CPH's error format where the server gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when the server no longer takes the token (expired, or the user was disabled). */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}
export const unauthorized = () => onUnauthorized();

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error_code?: string; error_msg?: string; error?: { code?: string; message?: string } };
    const code = body.error_code ?? body.error?.code ?? `HTTP ${res.status}`;
    const msg = body.error_msg ?? body.error?.message ?? res.statusText;
    return new ApiError(res.status, code, msg);
  } catch {
    return new ApiError(res.status, `HTTP ${res.status}`, text.slice(0, 200) || res.statusText);
  }
}

export async function request<T>(session: Session, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { 'X-Auth-Token': session.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, 'offline', 'The server does not answer; is it running?');
  }
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) onUnauthorized();
    throw err;
  }
  return (await res.json()) as T;
}

export const cph = (s: Session, path: string) => `/v1/${s.projectId}/cloud-phone${path}`;
export const ext = (s: Session, path: string) => `/_opencph/v1/${s.projectId}${path}`;

/** A password login scoped to a project (by name, or by id when it looks like one). */
export async function login(account: string, user: string, password: string, project: string): Promise<Session> {
  const res = await fetch('/v3/auth/tokens?nocatalog=true', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(passwordLogin({ user, password, account, project: PROJECT_ID.test(project) ? { id: project } : { name: project } })),
  });
  if (!res.ok) throw await errorOf(res);
  const token = res.headers.get('X-Subject-Token');
  const body = (await res.json()) as { token: { expires_at: string; project: { id: string; name: string }; user: { name: string } } };
  if (!token) throw new ApiError(res.status, 'console', 'The server answered without a token.');
  return { token, projectId: body.token.project.id, projectName: body.token.project.name, user: body.token.user.name, expiresAt: body.token.expires_at };
}

// The shapes the console reads, as the API writes them.

export interface Phone {
  phone_id: string;
  phone_name: string;
  server_id: string;
  phone_model_name: string;
  image_id: string;
  status: number;
  create_time: string;
  update_time: string;
}

export interface PhoneDetail extends Phone {
  property: string;
  imei: string;
  access_infos: { phone_ip: string; listen_port: number }[];
}

export interface Server {
  server_id: string;
  server_name: string;
  server_model_name: string;
  status: number;
}

export interface BatchAnswer {
  request_id: string;
  jobs: { phone_id?: string; server_id?: string; job_id: string; error_code?: string; error_msg?: string }[];
}

export interface Job {
  job_id: string;
  phone_id?: string;
  server_id?: string;
  status: number;
  begin_time: string | null;
  end_time: string | null;
  error_code: string | null;
  error_msg: string | null;
  execute_msg: string | null;
}

export interface RequestSummary {
  request_id: string;
  operation: string;
  create_time: string;
  jobs: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Asked for with a phone: its job in the request. */
  job?: Job;
}

export interface SyncAnswer {
  request_id: string;
  jobs: { phone_id: string; job_id: string; status: number; execute_msg?: string; error_code?: string; error_msg?: string }[];
}

/** Every page of a list, up to `max` items. */
export async function allPages<T>(read: (offset: number, limit: number) => Promise<T[]>, limit: number, max = 5000): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; offset < max; offset += limit) {
    const page = await read(offset, limit);
    all.push(...page);
    if (page.length < limit) break;
  }
  return all;
}

export const listPhones = (s: Session) =>
  allPages((o, l) => request<{ phones: Phone[] }>(s, 'GET', cph(s, `/phones?offset=${o}&limit=${l}`)).then((r) => r.phones), 200);

export const listServers = (s: Session) =>
  allPages((o, l) => request<{ servers: Server[] }>(s, 'GET', cph(s, `/servers?offset=${o}&limit=${l}`)).then((r) => r.servers), 100);

export const showPhone = (s: Session, id: string) => request<PhoneDetail>(s, 'GET', cph(s, `/phones/${encodeURIComponent(id)}`));

export const listRequests = (s: Session, o: { limit?: number; phoneId?: string } = {}) =>
  request<{ requests: RequestSummary[] }>(
    s,
    'GET',
    ext(s, `/requests?limit=${o.limit ?? 20}${o.phoneId ? `&phone_id=${encodeURIComponent(o.phoneId)}` : ''}`),
  ).then((r) => r.requests);

/** Every job of up to 20 requests (ListJobs, in pages of 100: a batch may have 1,000). */
export const listJobs = (s: Session, requestIds: readonly string[]) =>
  allPages(
    (offset, limit) => request<{ jobs: Job[] }>(s, 'GET', cph(s, `/jobs?request_ids=${requestIds.map(encodeURIComponent).join(',')}&offset=${offset}&limit=${limit}`)).then((r) => r.jobs),
    100,
  );

export const runShell = (s: Session, phoneIds: readonly string[], command: string) =>
  request<SyncAnswer>(s, 'POST', cph(s, '/phones/sync-commands'), { command: 'shell', content: command, phone_ids: phoneIds });

export type PhoneAction = 'restart' | 'reset' | 'stop';

export function phoneBatch(s: Session, action: PhoneAction, phoneIds: readonly string[]): Promise<BatchAnswer> {
  if (action === 'stop') return request(s, 'POST', cph(s, '/phones/batch-stop'), { phone_ids: phoneIds });
  return request(s, 'POST', cph(s, `/phones/batch-${action}`), { phones: phoneIds.map((phone_id) => ({ phone_id })) });
}

export const restartServers = (s: Session, serverIds: readonly string[]) =>
  request<BatchAnswer>(s, 'POST', cph(s, '/servers/batch-restart'), { server_ids: serverIds });
