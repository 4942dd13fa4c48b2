import { errorResponses, projectParams } from '../http/schemas/common.js';

/**
 * What every route of the test-control extension declares alike: the project in its path, the tag
 * `opencph`, the common error answers beside its own 200. A route states only what is its own.
 */

export type ProjectParams = { project_id: string };

/** Path parameters: the project and one more, `key`, described by `schema` (an id of up to 64 characters unless given). */
export function paramsWith(key: string, schema: object = { type: 'string', maxLength: 64 }) {
  return { type: 'object', required: ['project_id', key], properties: { ...projectParams.properties, [key]: schema } } as const;
}

/** A 200 answer of the request id and one more field, both always there. */
export function answerWith(key: string, schema: object) {
  return { type: 'object', required: ['request_id', key], properties: { request_id: { type: 'string' }, [key]: schema } } as const;
}

export interface ControlSchema {
  operationId: string;
  summary: string;
  description?: string;
  /** Path parameters beyond the project's (paramsWith); the project alone when absent. */
  params?: object;
  querystring?: object;
  body?: object;
  /** The 200 answer. */
  ok: object;
  /** Answers beyond the common errors (a 409, say). */
  otherAnswers?: Record<number, object>;
}

/** A route's schema in the order the routes wrote it, so the OpenAPI document reads as before. */
export function controlSchema(s: ControlSchema) {
  return {
    operationId: s.operationId,
    summary: s.summary,
    ...(s.description !== undefined ? { description: s.description } : {}),
    tags: ['opencph'],
    params: s.params ?? projectParams,
    ...(s.querystring !== undefined ? { querystring: s.querystring } : {}),
    ...(s.body !== undefined ? { body: s.body } : {}),
    response: { 200: s.ok, ...errorResponses, ...s.otherAnswers },
  };
}
