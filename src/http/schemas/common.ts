/** JSON schemas shared by routes: they validate input, serialize output and document the API. */

export const nullableString = { type: ['string', 'null'] } as const;

export const projectParams = {
  type: 'object',
  required: ['project_id'],
  properties: { project_id: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
} as const;

export const requestIdOnly = {
  type: 'object',
  required: ['request_id'],
  properties: { request_id: { type: 'string' } },
} as const;

export const errorBody = {
  type: 'object',
  required: ['request_id', 'error_code', 'error_msg'],
  properties: { request_id: { type: 'string' }, error_code: { type: 'string' }, error_msg: { type: 'string' } },
} as const;

/** Standard error responses for the OpenAPI document. */
export const errorResponses = {
  400: { description: 'Bad request', ...errorBody },
  401: { description: 'Unauthenticated', ...errorBody },
  403: { description: 'Forbidden', ...errorBody },
  404: { description: 'Not found', ...errorBody },
  500: { description: 'Internal error', ...errorBody },
} as const;

/**
 * How a number is written in a query string or a path: decimal digits, an optional minus sign, no
 * exponent, sign `+`, space, hex or `Infinity`. Every integer field there is held to it (validation.ts).
 */
export const DECIMAL_INTEGER = '^-?[0-9]+$';

/**
 * An integer in a query string. The bounds default to the integers JavaScript holds exactly
 * (±(2^53−1)): both stores take 64-bit integers, so no value that passes reaches them as a
 * datatype error, and no two texts that pass mean the same number.
 */
export function queryInteger(minimum: number = -Number.MAX_SAFE_INTEGER, maximum: number = Number.MAX_SAFE_INTEGER) {
  return { type: 'integer', minimum, maximum, pattern: DECIMAL_INTEGER } as const;
}

/** `offset`/`limit` query parameters; violations answer CPS.0002. */
export function pageQuery(limitMax: number, limitDefault: number) {
  return {
    offset: { ...queryInteger(0), default: 0 },
    limit: { ...queryInteger(1, limitMax), default: limitDefault },
  } as const;
}

/** A batch answer: `{request_id, jobs: [{phone_id|server_id|encode_server_id, job_id, error_code?, error_msg?}]}`. */
export function batchResponse(key: 'phone_id' | 'server_id' | 'encode_server_id') {
  return {
    type: 'object',
    required: ['request_id', 'jobs'],
    properties: {
      request_id: { type: 'string' },
      jobs: {
        type: 'array',
        items: {
          type: 'object',
          required: [key, 'job_id'],
          properties: { [key]: { type: 'string' }, job_id: { type: 'string' }, error_code: { type: 'string' }, error_msg: { type: 'string' } },
        },
      },
    },
  } as const;
}
