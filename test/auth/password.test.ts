import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from '../../src/auth/password.js';
import { hashToken, newAccessKey, newToken } from '../../src/auth/secrets.js';

describe('passwords (scrypt)', () => {
  it('stores a salted, self-describing hash that verifies only the right password', async () => {
    const a = await hashPassword('OpenCph#2026');
    const b = await hashPassword('OpenCph#2026');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('OpenCph');
    expect(await verifyPassword('OpenCph#2026', a)).toBe(true);
    expect(await verifyPassword('OpenCph#2027', a)).toBe(false);
    expect(await verifyPassword('OpenCph#2026', 'plain:OpenCph#2026')).toBe(false);
  });

  it('keeps new passwords between 8 and 128 characters', () => {
    expect(passwordProblem('short')).toContain('at least 8');
    expect(passwordProblem('x'.repeat(129))).toContain('at most 128');
    expect(passwordProblem('long enough')).toBeUndefined();
  });
});

describe('tokens and access keys', () => {
  it('mints unguessable tokens and stores them as SHA-256', () => {
    const t = newToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(t);
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('makes access keys shaped like IAM ones', () => {
    const { ak, sk } = newAccessKey();
    expect(ak).toMatch(/^[A-Z0-9]{20}$/);
    expect(sk).toMatch(/^[A-Za-z0-9]{40}$/);
  });
});
