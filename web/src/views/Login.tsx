import { useState } from 'preact/hooks';
import { ApiError, login, type Session } from '../api';

/** Why a login failed, in words a person can act on. */
function loginError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'IAM.0002') return 'The user name or password is wrong (or the user is not in that account).';
    if (e.code === 'IAM.0006') return 'This user is locked for a few minutes after five wrong passwords.';
    if (e.code === 'IAM.0003') return 'This user is disabled.';
    if (e.code === 'IAM.0004') return 'This user has no access to that project (check its name or id).';
    return `${e.code}: ${e.message}`;
  }
  return `The server did not answer: ${(e as Error).message}`;
}

export function LoginView({ onLogin, ended }: { onLogin: (s: Session) => void; ended?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const field = (k: string) => String(f.get(k) ?? '').trim();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await login(field('account'), field('user'), String(f.get('password') ?? ''), field('project')));
    } catch (e) {
      setError(loginError(e));
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <h1>OpenCPH console</h1>
        <p class="hint">Log in with an IAM user. The first start creates user opencph-admin in account opencph.</p>
        {ended && !error && (
          <p class="note" role="status">
            Your session has ended (its token expired or is no longer taken): log in again.
          </p>
        )}
        <label>
          Account
          <input name="account" autoComplete="organization" required defaultValue="opencph" />
        </label>
        <label>
          User
          <input name="user" autoComplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <label>
          Project (name or id)
          <input name="project" required defaultValue="cn-north-4" />
        </label>
        {error && (
          <p class="error" role="alert" id="login-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
