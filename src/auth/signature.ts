import { createHmac, hash, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * SDK-HMAC-SHA256, as the official Huawei Cloud SDKs sign requests (cph-api.md §6.2).
 * No clock, no store (parseSdkDate keeps the last date it read, which changes no answer). The
 * verifier rebuilds the canonical request from what arrived on the wire (raw path, raw query, the
 * headers named in SignedHeaders, the raw body bytes).
 */

export const ALGORITHM = 'SDK-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Signed requests are accepted this far from the server's clock, either way. */
export const MAX_DATE_SKEW_MS = 15 * 60_000;

const AUTHORIZATION = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const SDK_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface ParsedAuthorization {
  accessKey: string;
  /** Lower-case header names, in the order given. */
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  const m = value === undefined ? null : AUTHORIZATION.exec(value.trim());
  if (!m) return undefined;
  return { accessKey: m[1]!, signedHeaders: m[2]!.toLowerCase().split(';'), signature: m[3]! };
}

/** `20191115T033655Z` as epoch milliseconds, or undefined when it is not such a date. */
export function parseSdkDate(value: string | undefined): number | undefined {
  // A client's calls within one second carry the same date: the last one parsed is kept.
  if (value === lastSdkDate.text) return lastSdkDate.ms;
  const m = value === undefined ? null : SDK_DATE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Reject dates that Date.UTC silently rolls over (month 13, 31 February, hour 24).
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h || back.getUTCMinutes() !== mi) return undefined;
  lastSdkDate = { text: value!, ms };
  return ms;
}
let lastSdkDate: { text: string | undefined; ms: number | undefined } = { text: undefined, ms: undefined };

export function formatSdkDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').slice(0, 15) + 'Z';
}

const HEX = '0123456789ABCDEF';
const isUnreserved = (b: number) =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;

/** RFC 3986 encoding of UTF-8 bytes: unreserved characters kept, every other byte as `%XX`. */
function encodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += isUnreserved(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  return out;
}

function rfc3986(text: string): string {
  return UNRESERVED.test(text) ? text : encodeBytes(Buffer.from(text, 'utf8'));
}

/** `%XX` escapes to bytes, everything else as its UTF-8; a stray `%` stays a literal `%`. '+' is literal. */
function decodeToBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let plain = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      if (plain) parts.push(Buffer.from(plain, 'utf8'));
      plain = '';
      parts.push(Buffer.from([parseInt(text.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else {
      plain += c;
    }
  }
  if (plain) parts.push(Buffer.from(plain, 'utf8'));
  return Buffer.concat(parts);
}

/** Text of unreserved characters only is its own decoding and its own encoding (the common case). */
const UNRESERVED = /^[A-Za-z0-9._~-]*$/;

/** A path of unreserved characters and slashes only is its own canonical form (the common case). */
const PLAIN_PATH = /^[A-Za-z0-9._~/-]*$/;

/** The canonical URI: each raw path segment decoded and re-encoded, always ending in `/`. */
export function canonicalUri(rawPath: string): string {
  const uri = PLAIN_PATH.test(rawPath)
    ? rawPath
    : rawPath
        .split('/')
        .map((segment) => (UNRESERVED.test(segment) ? segment : encodeBytes(decodeToBytes(segment))))
        .join('/');
  return uri.endsWith('/') ? uri : uri + '/';
}

const decoded = (raw: string) => (UNRESERVED.test(raw) ? raw : decodeToBytes(raw).toString('utf8'));

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical query: pairs decoded, sorted by key then value, re-encoded; never the raw string. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([decoded(key), decoded(value)]);
  }
  pairs.sort((a, b) => byCodeUnits(a[0], b[0]) || byCodeUnits(a[1], b[1]));
  return pairs.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
}

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** A request as the verifier sees it: what came over the wire, untouched. */
export interface SignedRequest {
  method: string;
  /** The request target as sent: path and optional `?query`, still percent-encoded. */
  url: string;
  /** A header's value by lower-case name (several values joined as Node joins them). */
  header(name: string): string | undefined;
  body: Uint8Array | undefined;
}

export function canonicalRequest(req: SignedRequest, signedHeaders: readonly string[]): string {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const headers = signedHeaders.map((name) => `${name}:${(req.header(name) ?? '').trim()}\n`).join('');
  const payloadHash = req.header('x-sdk-content-sha256') ?? (req.body ? sha256Hex(req.body) : EMPTY_BODY_SHA256);
  return [req.method.toUpperCase(), canonicalUri(rawPath), canonicalQuery(rawQuery), headers, signedHeaders.join(';'), payloadHash].join('\n');
}

function stringToSign(sdkDate: string, canonical: string): string {
  return `${ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

/** The signature's bytes under a secret key, given as its text or as a key object made from it once. */
function macOf(secretKey: string | KeyObject, toSign: string): Buffer {
  return createHmac('sha256', typeof secretKey === 'string' ? Buffer.from(secretKey, 'utf8') : secretKey)
    .update(toSign)
    .digest();
}

/** Whether `auth.signature` is the signature of `req` under `secretKey`, compared in constant time. */
export function signatureMatches(req: SignedRequest, auth: ParsedAuthorization, secretKey: string | KeyObject): boolean {
  const expected = macOf(secretKey, stringToSign(req.header('x-sdk-date') ?? '', canonicalRequest(req, auth.signedHeaders)));
  const given = Buffer.from(auth.signature, 'hex');
  return given.length === expected.length && timingSafeEqual(expected, given);
}

export interface SignInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  accessKey: string;
  secretKey: string;
  /** Epoch ms for X-Sdk-Date (ignored when headers already carry X-Sdk-Date). */
  now: number;
}

/**
 * Sign a request the way the SDK does: every header given is signed, plus `X-Sdk-Date`.
 * Returns the headers to send (the given ones, X-Sdk-Date and Authorization). `host` must be among them.
 */
export function signRequest(input: SignInput): Record<string, string> {
  const headers: Record<string, string> = { ...input.headers };
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (!lower.has('x-sdk-date')) {
    headers['X-Sdk-Date'] = formatSdkDate(input.now);
    lower.set('x-sdk-date', headers['X-Sdk-Date']);
  }
  const signed = [...lower.keys()].sort(byCodeUnits);
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const req: SignedRequest = { method: input.method, url: input.url, header: (n) => lower.get(n), body };
  const signature = macOf(input.secretKey, stringToSign(lower.get('x-sdk-date')!, canonicalRequest(req, signed))).toString('hex');
  headers['Authorization'] = `${ALGORITHM} Access=${input.accessKey}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  return headers;
}
