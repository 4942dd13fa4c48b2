import { Limits } from './limits.js';

/** A tag of a resource, as CPH writes it on the wire. */
export interface Tag {
  key: string;
  value: string;
}

/**
 * Letters of any language (with their combining marks), digits, space and `_.:=+-@`
 * (cph-api.md §3.10). Counted in Unicode characters, not UTF-16 units: the `u` flag.
 */
const TAG_TEXT = /^[\p{L}\p{M}\p{N} _.:=+\-@]+$/u;

const chars = (s: string) => [...s].length;
const trimmed = (s: string) => s === s.trim();

/** A key: 1–127 characters of TAG_TEXT, no space at either end, not under the system prefix `_sys_`. */
export function isValidTagKey(key: string): boolean {
  return chars(key) <= Limits.tags.keyChars && TAG_TEXT.test(key) && trimmed(key) && !key.startsWith('_sys_');
}

/** A value: 1–255 characters of TAG_TEXT, no space at either end. */
export function isValidTagValue(value: string): boolean {
  return chars(value) <= Limits.tags.valueChars && TAG_TEXT.test(value) && trimmed(value);
}

/** The first key given twice, if any. */
export function duplicateKey(keys: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return undefined;
}
