import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { signRequest } from '../auth/signature.js';

/**
 * Where and as whom a client calls: an endpoint (OpenCPH, or Huawei's CPH endpoint), a project, and
 * an access key (signed requests) or an IAM token (sent as `X-Auth-Token`).
 */
export type OpenCphCredentials = OpenCphEndpoint & ({ ak: string; sk: string } | { token: string });

export interface OpenCphEndpoint {
  /** The server's base URL, e.g. `http://127.0.0.1:8780`. */
  endpoint: string;
  projectId: string;
  /**
   * The time requests are signed at, in epoch ms (default: this machine's clock). The server takes a
   * signature within 15 minutes of its own clock; against a virtual clock, give the server's time.
   */
  now?: () => number;
}

/** An error answer of the API: the HTTP status and CPH's `{request_id, error_code, error_msg}`. */
export class OpenCphApiError extends Error {
  readonly status: number;
  readonly error_code: string;
  readonly error_msg: string;
  readonly request_id: string | undefined;

  constructor(status: number, body: { error_code?: unknown; error_msg?: unknown; request_id?: unknown } | undefined, text: string) {
    const code = typeof body?.error_code === 'string' ? body.error_code : '';
    const msg = typeof body?.error_msg === 'string' ? body.error_msg : text.slice(0, 200);
    super(`${status} ${code}${code ? ' ' : ''}${msg}`.trim());
    this.name = 'OpenCphApiError';
    this.status = status;
    this.error_code = code;
    this.error_msg = msg;
    this.request_id = typeof body?.request_id === 'string' ? body.request_id : undefined;
  }
}

/**
 * Signed requests, as the official SDKs sign them (SDK-HMAC-SHA256 over content-type, host,
 * x-project-id and x-sdk-date, plus any header given), or requests carrying an IAM token, on
 * node:http or node:https. `unsigned` sends a request with no credentials (how a token is asked for).
 */
export class Transport {
  private readonly base: URL;
  private readonly prefix: string;

  constructor(private readonly credentials: OpenCphCredentials) {
    this.base = new URL(credentials.endpoint);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
  }

  get projectId(): string {
    return this.credentials.projectId;
  }

  /** Open a signed request for `target` (a path with its query) and resolve with the response once its headers arrive. */
  open(
    method: string,
    target: string,
    o: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; unsigned?: boolean } = {},
  ): Promise<IncomingMessage> {
    const path = this.prefix + target;
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const c = this.credentials;
    const plain: Record<string, string> = { 'content-type': 'application/json', host: this.base.host, 'X-Project-Id': c.projectId, ...o.headers };
    const headers = o.unsigned
      ? plain
      : 'token' in c
        ? { ...plain, 'X-Auth-Token': c.token }
        : signRequest({ method, url: path, headers: plain, body, accessKey: c.ak, secretKey: c.sk, now: (c.now ?? Date.now)() });
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        { protocol: this.base.protocol, hostname: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port, method, path, headers, signal: o.signal },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A signed JSON call; its answer's body, or an OpenCphApiError for any status but 2xx. */
  async call<T>(method: string, target: string, body?: unknown): Promise<T> {
    return (await this.exchange<T>(method, target, { body })).body;
  }

  /** `call` with the answer's headers too (an IAM token comes in `x-subject-token`). */
  async exchange<T>(method: string, target: string, o: { body?: unknown; unsigned?: boolean } = {}): Promise<{ body: T; headers: IncomingMessage['headers'] }> {
    const res = await this.open(method, target, o);
    const text = await readText(res);
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw new OpenCphApiError(status, parsed, text);
    return { body: parsed as T, headers: res.headers };
  }
}

export async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
