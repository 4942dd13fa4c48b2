import { createHash, randomBytes, randomInt } from 'node:crypto';

/** Tokens are opaque random strings; the store only ever sees their SHA-256. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = UPPER_DIGITS + 'abcdefghijklmnopqrstuvwxyz';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Access keys look like IAM's: a 20-character AK of capitals and digits, a 40-character SK. */
export function newAccessKey(): { ak: string; sk: string } {
  return { ak: randomString(UPPER_DIGITS, 20), sk: randomString(ALNUM, 40) };
}
