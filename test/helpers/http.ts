import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { signRequest } from '../../src/auth/signature.js';

/** An answer as a test reads it: the body parsed when it is JSON, and as text. */
export interface Reply<T = any> {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: T;
}

/**
 * One HTTP request with exactly these headers and body bytes, on node:http's keep-alive agent as a
 * client would: a `host` header is sent as given (signed requests need that), and nothing is added
 * that would change how the server answers (a `Connection: close` would make it close every time).
 */
export function request<T = any>(url: string, method: string, init: { body?: string | Buffer; headers?: Record<string, string>; agent?: Agent } = {}): Promise<Reply<T>> {
  // node:http neither chunks nor measures a DELETE body (it does so for POST and PUT): say its length, as clients do.
  const lengthless = method === 'DELETE' && init.body !== undefined && !Object.keys(init.headers ?? {}).some((h) => /^(content-length|transfer-encoding)$/i.test(h));
  const headers = lengthless ? { ...init.headers, 'content-length': String(Buffer.byteLength(init.body!)) } : init.headers;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, ...(init.agent ? { agent: init.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // Not JSON (the docs page, a bare 404 of node:http): `text` has it.
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** `request` to a port on loopback, by path. */
export function send(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return request(`http://127.0.0.1:${port}${target}`, method, { headers, body });
}

export interface Key {
  ak: string;
  sk: string;
}

/** A request signed as the SDK signs it (content-type, host, x-project-id, x-sdk-date). */
export function sendSigned(
  port: number,
  key: Key,
  method: string,
  target: string,
  o: { body?: unknown; projectId?: string; now?: number; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const projectId = o.projectId ?? /^\/v1\/([^/]+)\//.exec(target)?.[1];
  const headers = signRequest({
    method,
    url: target,
    headers: { 'content-type': 'application/json', host: `127.0.0.1:${port}`, ...(projectId ? { 'X-Project-Id': projectId } : {}), ...o.headers },
    body,
    accessKey: key.ak,
    secretKey: key.sk,
    now: o.now ?? Date.now(),
  });
  return send(port, method, target, headers, body);
}

/** A request with an IAM token. */
export function sendWithToken(port: number, token: string, method: string, target: string, body?: unknown): Promise<Reply> {
  return send(port, method, target, { 'content-type': 'application/json', 'X-Auth-Token': token }, body === undefined ? undefined : JSON.stringify(body));
}

export function passwordAuth(user: string, password: string, account: string | undefined, project: { id: string } | { name: string }) {
  return { auth: { identity: { methods: ['password'], password: { user: { name: user, password, ...(account ? { domain: { name: account } } : {}) } } }, scope: { project } } };
}

/** POST /v3/auth/tokens; the token (if any) from X-Subject-Token. */
export async function getToken(port: number, body: unknown, query = ''): Promise<Reply & { token?: string }> {
  const r = await send(port, 'POST', `/v3/auth/tokens${query}`, { 'content-type': 'application/json;charset=utf8' }, JSON.stringify(body));
  const token = r.headers['x-subject-token'];
  return { ...r, token: typeof token === 'string' ? token : undefined };
}
