import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OpenCphApiError, Transport } from '../../client/transport.js';
import { passwordLogin } from '../../domain/iam.js';
import { CliError, explain, type CallContext } from './errors.js';
import { resolveProfile, writePrivateJson, type ResolvedProfile } from './profiles.js';

/**
 * A profile made into calls: signed with its access key (SDK-HMAC-SHA256, as the SDKs sign), or
 * with an IAM token got with its user and password and kept (0600, beside the profiles) until a
 * minute before it expires. Every failure comes back explained (errors.ts).
 */
export class Session {
  private transport: Transport | undefined;
  readonly context: CallContext;

  private constructor(readonly profile: ResolvedProfile) {
    this.context = {
      endpoint: profile.endpoint!,
      endpointSource: profile.source.endpoint,
      profile: profile.name,
      projectId: profile.project_id!,
      ak: profile.ak,
      user: profile.user,
      account: profile.account ?? profile.user,
    };
  }

  static open(profileName: string | undefined): Session {
    return new Session(resolveProfile(profileName));
  }

  get projectId(): string {
    return this.profile.project_id!;
  }

  /** A call to the project's CPH API (`path` below `/v1/{project_id}/cloud-phone`). */
  async cph<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.call<T>(method, `/v1/${encodeURIComponent(this.projectId)}/cloud-phone${path}`, body);
  }

  async call<T>(method: string, target: string, body?: unknown): Promise<T> {
    try {
      return await (await this.transportFor()).call<T>(method, target, body);
    } catch (err) {
      // A kept token the server no longer takes (revoked, server reset): log in again, once.
      if (err instanceof OpenCphApiError && err.status === 401 && this.usesToken() && /token/i.test(err.error_msg)) {
        this.forgetToken();
        try {
          return await (await this.transportFor()).call<T>(method, target, body);
        } catch (again) {
          throw explain(again, this.context);
        }
      }
      throw explain(err, this.context);
    }
  }

  private usesToken(): boolean {
    return !(this.profile.ak && this.profile.sk);
  }

  private async transportFor(): Promise<Transport> {
    if (this.transport) return this.transport;
    const p = this.profile;
    if (!this.usesToken()) {
      this.transport = new Transport({ endpoint: p.endpoint!, projectId: p.project_id!, ak: p.ak!, sk: p.sk! });
    } else {
      this.transport = new Transport({ endpoint: p.endpoint!, projectId: p.project_id!, token: await this.token() });
    }
    return this.transport;
  }

  // ---------- IAM tokens ----------

  private get tokenFile(): string {
    return join(dirname(this.profile.path), 'tokens.json');
  }

  /** What a kept token must have been got for to be used again (the password by its hash: a new one logs in again). */
  private get tokenKey(): string {
    const p = this.profile;
    const password = createHash('sha256').update(p.password ?? '').digest('hex');
    return JSON.stringify([p.iam_endpoint ?? p.endpoint, p.account ?? p.user, p.user, p.project_id, password]);
  }

  private readTokens(): Record<string, { key: string; token: string; expires_at: string }> {
    try {
      return existsSync(this.tokenFile) ? JSON.parse(readFileSync(this.tokenFile, 'utf8')) : {};
    } catch {
      return {};
    }
  }

  private forgetToken(): void {
    const tokens = this.readTokens();
    delete tokens[this.profile.name];
    writePrivateJson(this.tokenFile, tokens);
    this.transport = undefined;
  }

  private async token(): Promise<string> {
    const kept = this.readTokens()[this.profile.name];
    if (kept && kept.key === this.tokenKey && Date.parse(kept.expires_at) - 60_000 > Date.now()) return kept.token;
    const p = this.profile;
    const iamEndpoint = p.iam_endpoint ?? p.endpoint!;
    const iam = new Transport({ endpoint: iamEndpoint, projectId: p.project_id!, token: '' });
    const account = p.account ?? p.user!;
    const body = passwordLogin({ user: p.user!, password: p.password!, account, project: { id: p.project_id! } });
    let answer: { body: { token?: { expires_at?: string } }; headers: Record<string, string | string[] | undefined> };
    try {
      answer = await iam.exchange('POST', '/v3/auth/tokens?nocatalog=true', { body, unsigned: true });
    } catch (err) {
      throw explain(err, { ...this.context, endpoint: iamEndpoint, endpointSource: p.source.iam_endpoint ?? p.source.endpoint, iam: true });
    }
    const token = answer.headers['x-subject-token'];
    if (typeof token !== 'string' || !token) throw new CliError(`${iamEndpoint}/v3/auth/tokens answered without an X-Subject-Token header: is it an IAM endpoint?`);
    const expiresAt = answer.body?.token?.expires_at ?? new Date(Date.now() + 3600_000).toISOString();
    const tokens = this.readTokens();
    tokens[this.profile.name] = { key: this.tokenKey, token, expires_at: expiresAt };
    writePrivateJson(this.tokenFile, tokens);
    return token;
  }
}
