import { Limits } from './limits.js';

export type Properties = Record<string, string>;

const KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Parse CPH's `property` field: a JSON object serialised into a string, names to values
 * (`"{\"sys.prop.writephonenum\":\"13666666666\"}"`). Numbers and booleans are taken as their text.
 * Returns undefined when the string is not such an object.
 */
export function parseProperty(text: unknown): Properties | undefined {
  if (typeof text !== 'string' || Buffer.byteLength(text) > Limits.propertyBytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const out: Properties = {};
  for (const [k, v] of Object.entries(value)) {
    if (!KEY.test(k)) return undefined;
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else return undefined;
  }
  return out;
}

export function formatProperty(props: Properties): string {
  return JSON.stringify(props);
}

/** Apply `update` on top of the phone's current properties. */
export function mergeProperty(current: string, update: Properties): string {
  return formatProperty({ ...(parseProperty(current) ?? {}), ...update });
}
