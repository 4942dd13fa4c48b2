import { describe, expect, it } from 'vitest';
import { idAt, isMintedId, isResourceId, newId } from '../../src/domain/ids.js';
import { mergeProperty, parseProperty } from '../../src/domain/property.js';
import { isValidName, truncateUtf8 } from '../../src/domain/text.js';
import { formatUtc } from '../../src/domain/time.js';

describe('truncateUtf8', () => {
  it('keeps short text whole', () => {
    expect(truncateUtf8('hello', 1024)).toBe('hello');
  });
  it('cuts at the byte limit', () => {
    expect(Buffer.byteLength(truncateUtf8('a'.repeat(2000), 1024))).toBe(1024);
  });
  it('never splits a multi-byte character', () => {
    // '€' is 3 bytes: 341 of them are 1023 bytes, a 342nd would cross 1024.
    const out = truncateUtf8('€'.repeat(400), 1024);
    expect(Buffer.byteLength(out)).toBe(1023);
    expect(out).toBe('€'.repeat(341));
    const emoji = truncateUtf8('a' + '😀'.repeat(300), 1024); // 1 + 4n bytes
    expect(Buffer.byteLength(emoji)).toBe(1021);
    expect(emoji.endsWith('😀')).toBe(true);
  });
});

describe('formatUtc', () => {
  it('renders CPH time without fraction, in UTC', () => {
    expect(formatUtc(Date.UTC(2019, 3, 26, 7, 0, 6, 999))).toBe('2019-04-26T07:00:06Z');
  });
  it('agrees with Date#toISOString everywhere, around midnights and before 1970 too', () => {
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
    const samples = [0, -1, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59)];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor(Math.random() * 4e12) - 1e12);
    for (const ms of samples) expect(formatUtc(ms)).toBe(iso(ms));
  });
});

describe('ids', () => {
  it('mints 32 lowercase hex chars', () => {
    const id = newId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(isMintedId(id)).toBe(true);
    expect(newId()).not.toBe(id);
  });
  it('starts with the time, so later ids sort later; the rest is random', async () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    const after = Date.now();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      const ms = parseInt(id.slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    const first = newId();
    await new Promise((r) => setTimeout(r, 2));
    expect(newId() > first).toBe(true);
    // 80 random bits: the tails of one millisecond's ids differ.
    expect(new Set(ids.map((id) => id.slice(12))).size).toBe(ids.length);
  });
  it('mints an id for a given time the same way (idAt)', () => {
    const at = Date.UTC(2026, 10, 23, 8, 0, 0);
    const a = idAt(at);
    const b = idAt(at + 1);
    expect(isMintedId(a)).toBe(true);
    expect(parseInt(a.slice(0, 12), 16)).toBe(at);
    expect(b > a).toBe(true);
    expect(idAt(at).slice(12)).not.toBe(a.slice(12));
  });
  it('accepts resource ids up to 32 bytes only', () => {
    expect(isResourceId('a'.repeat(32))).toBe(true);
    expect(isResourceId('a'.repeat(33))).toBe(false);
    expect(isResourceId('')).toBe(false);
    expect(isResourceId('bad id')).toBe(false);
    expect(isResourceId(5)).toBe(false);
  });
});

describe('names', () => {
  it('takes letters, digits, Chinese, - and _ up to 60 chars', () => {
    expect(isValidName('phone-01_a')).toBe(true);
    expect(isValidName('云手机-1')).toBe(true);
    expect(isValidName('x'.repeat(60))).toBe(true);
    expect(isValidName('x'.repeat(61))).toBe(false);
    expect(isValidName('has space')).toBe(false);
    expect(isValidName('')).toBe(false);
  });
});

describe('property', () => {
  it('parses a JSON object string, stringifying scalars', () => {
    expect(parseProperty('{"sys.prop.writephonenum":"13666666666","n":5,"b":true}')).toEqual({ 'sys.prop.writephonenum': '13666666666', n: '5', b: 'true' });
  });
  it('rejects anything else', () => {
    for (const bad of ['nope', '[]', '"x"', 'null', '{"a":{"b":1}}', '{"bad key":"1"}', '{"a":null}', 'x'.repeat(3000)]) {
      expect(parseProperty(bad), bad).toBeUndefined();
    }
  });
  it('merges updates over current values', () => {
    expect(JSON.parse(mergeProperty('{"a":"1","b":"2"}', { b: '3', c: '4' }))).toEqual({ a: '1', b: '3', c: '4' });
  });
});
