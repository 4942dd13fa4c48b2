import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { CphError, Errors, invalidParameter, type CatalogueEntry } from '../../domain/errors.js';
import { mayBeId, newId } from '../../domain/ids.js';
import { closeAfterAnswer, closeGracefully } from './body.js';

export interface Rendered {
  status: number;
  code: string;
  message: string;
}

const render = (entry: CatalogueEntry, detail?: string): Rendered => ({
  status: entry.status,
  code: entry.code,
  message: detail ? `${entry.message} ${detail}` : entry.message,
});

/** An error thrown by our own code: a CphError answers as it says, anything else CPS.0003. */
export const renderThrown = (err: unknown): Rendered =>
  err instanceof CphError ? { status: err.status, code: err.code, message: err.message } : render(Errors.internal);

/** Every error answer's body, in CPH's words. */
export const errorAnswer = (requestId: string, e: Rendered) => ({ request_id: requestId, error_code: e.code, error_msg: e.message });

/** Fields that answer with the same code on every route. */
const DEFAULT_CODES: Record<string, CatalogueEntry> = {
  project_id: Errors.invalidProjectId,
  offset: Errors.pageParams,
  limit: Errors.pageParams,
};

/**
 * The field a validation error is about: the missing property, or the last named segment of its
 * path; an element of an array field is `field[]` (so `phone_ids[]` can answer differently from an
 * empty `phone_ids`).
 */
function fieldOf(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return 'body';
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  if (missing) return missing;
  const segments = first.instancePath.split('/').filter(Boolean);
  const last = segments[segments.length - 1];
  if (last === undefined) return err.validationContext === 'body' ? 'body' : 'parameter';
  if (/^\d+$/.test(last)) {
    const parent = segments.slice(0, -1).filter((s) => !/^\d+$/.test(s)).pop();
    return parent ? `${parent}[]` : 'body';
  }
  return last;
}

function entryFor(field: string, req: FastifyRequest): CatalogueEntry {
  const codes = req.routeOptions.config?.errorCodes;
  const base = field.endsWith('[]') ? field.slice(0, -2) : field;
  return codes?.[field] ?? DEFAULT_CODES[field] ?? codes?.[base] ?? DEFAULT_CODES[base] ?? invalidParameter(base);
}

function toRendered(err: FastifyError, req: FastifyRequest): Rendered {
  if (err instanceof CphError) return renderThrown(err);
  if (err.validation) {
    return render(entryFor(fieldOf(err), req));
  }
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return render(Errors.badRequest, 'The path is not valid percent-encoded UTF-8.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return render(Errors.uriTooLong);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return render(Errors.bodyTooLarge);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return render(Errors.unsupportedMediaType, 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return render(invalidParameter('body'), 'The body is empty.');
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return render(invalidParameter('body'), 'The body is not valid JSON.');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return render(invalidParameter('request'), err.message);
  return render(Errors.internal);
}

function sendError(req: FastifyRequest, reply: FastifyReply, e: Rendered): FastifyReply {
  // A body too large is refused before it is read: the connection closes after the answer, and
  // closes gently so that the rest of the body still on its way does not reset it first.
  if (e.status === Errors.bodyTooLarge.status) {
    reply.header('Connection', 'close');
    if (!req.raw.complete) closeAfterAnswer(req.raw.socket);
  }
  return reply.code(e.status).type('application/json').send(errorAnswer(req.id, e));
}

function errorResponder(req: FastifyRequest, reply: FastifyReply, entry: CatalogueEntry, detail?: string): FastifyReply {
  return sendError(req, reply, render(entry, detail));
}

/**
 * One place renders every error as CPH does: `{request_id, error_code, error_msg}`, never a stack.
 * Unknown paths answer 404 and known paths with another method 405 (see routedWith), both in the gateway's words.
 */
export function registerErrorHandling(app: FastifyInstance, routerOptions: { maxParamLength: number; ignoreTrailingSlash: boolean }): void {
  // A mirror of the route table, to tell "no such API" from "not with this method"; it must match
  // paths as the app's router does (a trailing slash, a long id), or a 405 would answer 404.
  const routes = FindMyWay(routerOptions);
  app.addHook('onRoute', (route) => {
    for (const m of [route.method].flat()) {
      if (!routes.hasRoute(m as HTTPMethod, route.url)) routes.on(m as HTTPMethod, route.url, () => undefined);
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toRendered(err, req);
    // Fastify reads the body of a call with no route before its not-found handler: a body it cannot
    // read (no content type, one it does not take, not JSON) still answers that the API is not there.
    if (req.is404 && e.status >= 400 && e.status < 500 && e.status !== Errors.bodyTooLarge.status) return notFound(req, reply);
    // A CphError is an answer we chose (a 503 while shutting down, say): the access line says it.
    if (e.status >= 500 && !(err instanceof CphError)) req.log.error({ err }, 'request failed');
    return sendError(req, reply, e);
  });

  /**
   * Whether `path` is an address of the API with `method`: 404 or 405 hangs on it. A static route
   * counts as it is. A route with parameters counts only when each of them may be an id (mayBeId):
   * the router takes any segment for a parameter, so POST /phones/batch-nothing finds
   * GET /phones/{phone_id} with phone_id "batch-nothing", yet the caller asked for an API that is not
   * there (404), not for a phone with another method (405). Route by route:
   * - /phones/{phone_id}, /servers/{server_id}: literals beside them (batch-*, share-*, commands,
   *   open-access, change-server-model…); a word there is 404, an id 405.
   * - /jobs/{job_id}, /images/{image_id}[/members[/{member_id}]], /bandwidths/{band_width_id} (a UUID),
   *   /v2/…/servers/{server_id}/change, /v1/{project_id}/cph-server/{resource_id}/tags[/action], and
   *   {project_id} in every path: ids, so 405 with an id, 404 with a word such as "null".
   * - A wildcard (/docs/*) takes any path beneath it: it counts as it is.
   */
  const routedWith = (method: HTTPMethod, path: string): boolean => {
    const found = routes.find(method, path);
    if (!found) return false;
    return Object.entries(found.params).every(([name, value]) => name === '*' || value === undefined || mayBeId(value));
  };

  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = req.url.split('?')[0] ?? '/';
    const other = (['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const).filter((m) => m !== req.method && routedWith(m, path));
    if (other.length > 0) {
      reply.header('Allow', other.join(', '));
      return errorResponder(req, reply, Errors.methodNotAllowed, `${req.method} is not allowed here; use ${other.join(' or ')}.`);
    }
    return errorResponder(req, reply, Errors.apiNotFound);
  };
  app.setNotFoundHandler(notFound);
}

/**
 * Fastify's `frameworkErrors`: a path the router cannot decode (`%FF`, `%zz`) or a path parameter
 * past its length limit. These calls never reach the hooks, so the request id header is set here.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  reply.header('X-Request-Id', req.id);
  void sendError(req, reply, toRendered(err, req));
}

/**
 * Fastify's `clientErrorHandler`, for what node:http refuses before any request exists: a
 * malformed request, headers too large, a request not received within the time-outs. Answered in
 * CPH's format on the raw socket, with a request id of its own; then the connection closes.
 */
export function clientErrorHandler(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.debug({ err }, 'client error');
  // An answer already under way (a request that timed out while its answer was being written) is not interrupted.
  const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    const entry = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? Errors.requestTimeout : err.code === 'HPE_HEADER_OVERFLOW' ? Errors.headersTooLarge : Errors.badRequest;
    const id = newId();
    const body = JSON.stringify(errorAnswer(id, render(entry)));
    socket.end(
      `HTTP/1.1 ${entry.status} ${STATUS_CODES[entry.status]}\r\nX-Request-Id: ${id}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  closeGracefully(socket);
}
