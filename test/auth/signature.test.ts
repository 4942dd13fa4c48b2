import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  EMPTY_BODY_SHA256,
  formatSdkDate,
  parseAuthorization,
  parseSdkDate,
  signatureMatches,
  signRequest,
  type SignedRequest,
} from '../../src/auth/signature.js';
import { asSignedRequest, headerOf, VECTORS } from '../helpers/vectors.js';

const { ak, sk } = VECTORS.credentials;

describe('SDK-HMAC-SHA256 verification (pure)', () => {
  for (const v of VECTORS.vectors) {
    it(`vector "${v.name}" is ${v.valid ? 'valid' : 'invalid'}`, () => {
      const auth = parseAuthorization(headerOf(v, 'authorization'));
      // Every vector, valid or not, carries a well-formed header as the SDK writes it.
      expect(auth).toEqual({ accessKey: expect.stringMatching(/^EXAMPLEAK\d+$/), signedHeaders: ['content-type', 'host', 'x-project-id', 'x-sdk-date'], signature: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const ok = auth!.accessKey === ak && signatureMatches(asSignedRequest(v), auth!, sk);
      expect(ok).toBe(v.valid);
    });
  }

  it('parses the Authorization header as the SDK writes it, and rejects other shapes', () => {
    expect(parseAuthorization(`SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=${'a'.repeat(64)}`)).toEqual({
      accessKey: 'AK1',
      signedHeaders: ['host', 'x-sdk-date'],
      signature: 'a'.repeat(64),
    });
    expect(parseAuthorization(`SDK-HMAC-SHA256 Access=AK1,SignedHeaders=host,Signature=${'0'.repeat(64)}`)).toEqual({ accessKey: 'AK1', signedHeaders: ['host'], signature: '0'.repeat(64) });
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
    expect(parseAuthorization(`SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=${'A'.repeat(64)}`)).toBeUndefined();
    expect(parseAuthorization(`SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=abc`)).toBeUndefined();
    expect(parseAuthorization(undefined)).toBeUndefined();
  });

  it('reads and writes X-Sdk-Date, refusing impossible dates', () => {
    expect(parseSdkDate('20191115T033655Z')).toBe(Date.UTC(2019, 10, 15, 3, 36, 55));
    expect(formatSdkDate(Date.UTC(2019, 10, 15, 3, 36, 55, 900))).toBe('20191115T033655Z');
    expect(parseSdkDate('20191315T033655Z')).toBeUndefined();
    expect(parseSdkDate('20190230T000000Z')).toBeUndefined();
    expect(parseSdkDate('2019-11-15T03:36:55Z')).toBeUndefined();
    expect(parseSdkDate(undefined)).toBeUndefined();
    // The last date read is kept: the same text again, or any other after it, reads as it did alone.
    const at = Date.UTC(2019, 10, 15, 3, 36, 55);
    for (const [text, ms] of [
      ['20191115T033655Z', at],
      ['20191115T033655Z', at],
      ['20191115T033656Z', at + 1000],
      [undefined, undefined],
      ['20190230T000000Z', undefined],
      ['20191115T033655Z', at],
    ] as const)
      expect(parseSdkDate(text)).toBe(ms);
  });

  it('builds the canonical URI from the raw path, re-encoded, with a trailing slash', () => {
    expect(canonicalUri('/v1/p/cloud-phone/jobs')).toBe('/v1/p/cloud-phone/jobs/');
    expect(canonicalUri('/v1/p/x/')).toBe('/v1/p/x/');
    expect(canonicalUri('/a%20b/c%2Fd/%7e!')).toBe('/a%20b/c%2Fd/~%21/');
    expect(canonicalUri('/caf%C3%A9')).toBe('/caf%C3%A9/');
    expect(canonicalUri('/a-b/c_d.e~f')).toBe('/a-b/c_d.e~f/');
    expect(canonicalUri('/%7e')).toBe('/~/');
    expect(canonicalUri('/a%2fb')).toBe('/a%2Fb/');
    expect(canonicalUri('')).toBe('/');
  });

  it('builds the canonical query from decoded pairs, sorted, re-encoded (never the raw string)', () => {
    expect(canonicalQuery('')).toBe('');
    expect(canonicalQuery('offset=0&limit=100')).toBe('limit=100&offset=0');
    expect(canonicalQuery('request_ids=a%2Cb')).toBe('request_ids=a%2Cb');
    expect(canonicalQuery("name=it's(*)")).toBe('name=it%27s%28%2A%29');
    expect(canonicalQuery('a=2&a=1&b')).toBe('a=1&a=2&b=');
    expect(canonicalQuery('q=a+b')).toBe('q=a%2Bb');
  });

  it('hashes the raw body bytes, or the empty string when there is none', () => {
    const req: SignedRequest = { method: 'GET', url: '/x', header: () => undefined, body: undefined };
    expect(canonicalRequest(req, ['host']).endsWith(EMPTY_BODY_SHA256)).toBe(true);
    const withBody = { ...req, body: Buffer.from('{"a": 1}') };
    expect(canonicalRequest(withBody, ['host'])).not.toContain(EMPTY_BODY_SHA256);
    const unsigned = { ...withBody, header: (n: string) => (n === 'x-sdk-content-sha256' ? 'UNSIGNED-PAYLOAD' : undefined) };
    expect(canonicalRequest(unsigned, ['host']).endsWith('\nUNSIGNED-PAYLOAD')).toBe(true);
  });

  it('reproduces a vector signed by the SDK when signing the same request', () => {
    const v = VECTORS.vectors.find((x) => x.valid && x.method === 'POST')!;
    const headers = Object.fromEntries(Object.entries(v.headers).filter(([k]) => !['authorization', 'user-agent'].includes(k.toLowerCase())));
    const signed = signRequest({ method: v.method, url: v.target, headers, body: v.body, accessKey: ak, secretKey: sk, now: 0 });
    expect(signed['Authorization']).toBe(headerOf(v, 'authorization'));
  });
});
