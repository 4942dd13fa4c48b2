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
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict.compile(schema) : decimalOnly(schema, coercing.compile(schema))));
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
