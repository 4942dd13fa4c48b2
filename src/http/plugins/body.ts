import type { FastifyInstance } from 'fastify';
import { CphError, invalidParameter } from '../../domain/errors.js';

/**
 * JSON bodies are read as bytes first: signature verification hashes exactly what was sent.
 * An empty body parses as "no body" (the SDK sends content-type: application/json on every call).
 */
export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body: Buffer, done) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch {
      done(new CphError(invalidParameter('body'), 'The body is not valid JSON.'), undefined);
    }
  });
}
