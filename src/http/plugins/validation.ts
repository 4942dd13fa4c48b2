import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';

/**
 * Two validators: query strings and paths arrive as text, so numbers there are coerced; JSON bodies
 * are typed, so a string where a number belongs (or the reverse) is an error, not a guess.
 */
export function registerValidation(app: FastifyInstance): void {
  const common = { useDefaults: true, allErrors: false, strict: false } as const;
  const coercing = new Ajv({ ...common, coerceTypes: true });
  const strict = new Ajv({ ...common, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}
