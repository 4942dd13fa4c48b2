/**
 * A small CPH client: the few calls this project makes, over fetch, with an IAM token.
 *
 * A token is the CPH credential that suits tests best: it is checked against the server's clock
 * (valid 24 hours from when it was issued), so the client works unchanged when the server runs a
 * virtual clock that a test moves forward by hours, whereas an AK/SK signature carries this
 * machine's time and is refused once the server's clock is 15 minutes away from it.
 */

export interface Job {
  job_id: string;
  phone_id?: string;
  server_id?: string;
  /** 1 running, 2 succeeded, -1 failed. */
  status: number;
  begin_time?: string | null;
  end_time?: string | null;
  error_code?: string | null;
  error_msg?: string | null;
  execute_msg?: string | null;
}

export interface BatchItem {
  phone_id: string;
  job_id?: string;
  error_code?: string | null;
  error_msg?: string | null;
}

export interface Phone {
  phone_id: string;
  phone_name: string;
  server_id: string;
  status: number;
}

export class CphError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorMsg: string,
  ) {
    super(`${status} ${errorCode} ${errorMsg}`);
  }
}

export interface Login {
  /** e.g. https://cph.cn-north-4.myhuaweicloud.com, or a local OpenCPH. */
  endpoint: string;
  /** IAM's endpoint (default: the same as `endpoint`, as on OpenCPH). */
  iamEndpoint?: string;
  projectId: string;
  account: string;
  user: string;
  password: string;
}

export class CphClient {
  private constructor(
    private readonly endpoint: string,
    private readonly projectId: string,
    private readonly token: string,
  ) {}

  /** Sign in with a password (POST /v3/auth/tokens, project scope); the token comes in X-Subject-Token. */
  static async login(l: Login): Promise<CphClient> {
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: l.user, password: l.password, domain: { name: l.account } } } },
        scope: { project: { id: l.projectId } },
      },
    };
    const res = await fetch(`${l.iamEndpoint ?? l.endpoint}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) throw await errorOf(res);
    return new CphClient(l.endpoint, l.projectId, token);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.endpoint}/v1/${this.projectId}/cloud-phone${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': this.token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }

  listPhones(): Promise<{ phones: Phone[]; count: number }> {
    return this.call('GET', '/phones?limit=100');
  }
  restartPhones(phoneIds: string[]): Promise<{ request_id: string; jobs: BatchItem[] }> {
    return this.call('POST', '/phones/batch-restart', { phones: phoneIds.map((phone_id) => ({ phone_id })) });
  }
  resetPhones(phoneIds: string[]): Promise<{ request_id: string; jobs: BatchItem[] }> {
    return this.call('POST', '/phones/batch-reset', { phones: phoneIds.map((phone_id) => ({ phone_id })) });
  }
  listJobs(requestId: string): Promise<{ jobs: Job[] }> {
    return this.call('GET', `/jobs?request_id=${encodeURIComponent(requestId)}&limit=100`);
  }
}

async function errorOf(res: Response): Promise<CphError> {
  const text = await res.text();
  let body: { error_code?: string; error_msg?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return new CphError(res.status, body.error_code ?? '', body.error_msg ?? text);
}
