import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { DECIMAL_INTEGER } from '../schemas/common.js';

/**
 * Two validators: query strings and paths arrive as text, so numbers there are coerced; JSON bodies
 * are typed, so a string where a number belongs (or the reverse) is an error, not a guess.
 */
export function registerValidation(app: FastifyInstance): void {
  const common = { useDefaults: true, allErrors: false, strict: false } as const;
  const coercing = new Ajv({ ...common, coerceTypes: true });
  const strict = new Ajv({ ...common, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => withoutNul(httpPart === 'body' ? strict.compile(schema) : decimalOnly(schema, coercing.compile(schema))));
}

/**
 * No text CPH takes may hold U+0000, and PostgreSQL's text cannot: a value with one would reach the
 * store as an error, not an answer. Every string of a valid query, path or body is held to that,
 * and a failure names its field (so it answers with that field's code).
 */
function withoutNul(validate: ValidateFunction | ((data: unknown) => boolean)): (data: unknown) => boolean {
  const checked = (data: unknown): boolean => {
    const ok = validate(data);
    checked.errors = (validate as ValidateFunction).errors;
    if (!ok) return false;
    const path = nulAt(data, '');
    if (path === undefined) return true;
    checked.errors = [{ instancePath: path, schemaPath: '#', keyword: 'pattern', params: { pattern: '^[^\\u0000]*$' }, message: 'must not contain U+0000' }];
    return false;
  };
  checked.errors = null as ErrorObject[] | null | undefined;
  return checked;
}

/**
 * The JSON pointer of the first string in `value` that holds U+0000, if any. Walked with a stack of
 * its own, not by recursion: a body a route's schema leaves open may nest deeper than the call stack.
 */
function nulAt(value: unknown, path: string): string | undefined {
  // Entries still to visit, the next one last; each is [its pointer, its key or undefined for the root, its value].
  const stack: [string, string | undefined, unknown][] = [[path, undefined, value]];
  while (stack.length > 0) {
    const [at, key, v] = stack.pop()!;
    // A key is text too: a query's or a body's keys reach messages and, in a body, stored parameters.
    if (key?.includes('\u0000')) return at;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return at;
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) stack.push([`${at}/${entries[i]![0]}`, entries[i]![0], entries[i]![1]]);
    }
  }
  return undefined;
}

const DECIMAL = new RegExp(DECIMAL_INTEGER);

/**
 * Ajv's coercion reads text as JavaScript does: `1e19`, `0x10`, ` 10` and `Infinity` would all be
 * integers. Each integer property of a query or path is first held to DECIMAL_INTEGER, as written;
 * a failure reads as Ajv's own, so it answers with that field's code.
 */
function decimalOnly(schema: unknown, validate: ValidateFunction): ValidateFunction | ((data: unknown) => boolean) {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const integers = Object.keys(properties).filter((name) => properties[name]!.type === 'integer');
  if (integers.length === 0) return validate;
  const checked = (data: unknown): boolean => {
    const values = (data ?? {}) as Record<string, unknown>;
    for (const name of integers) {
      const value = values[name];
      if (typeof value === 'string' && !DECIMAL.test(value)) {
        checked.errors = [notDecimal(name)];
        return false;
      }
    }
    const ok = validate(data);
    checked.errors = validate.errors;
    return ok;
  };
  checked.errors = null as ErrorObject[] | null | undefined;
  return checked;
}

const notDecimal = (name: string): ErrorObject => ({
  instancePath: `/${name}`,
  schemaPath: `#/properties/${name}/pattern`,
  keyword: 'pattern',
  params: { pattern: DECIMAL_INTEGER },
  message: `must match pattern "${DECIMAL_INTEGER}"`,
});
