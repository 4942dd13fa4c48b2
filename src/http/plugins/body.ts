import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';

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

  // GET bodies are never parsed, yet a client may send and sign one (the SDK's own IAM calls send
  // "{}" with GET): keep the bytes for the signature check. A callback hook: it runs on every
  // request, and nearly all of them pass straight through.
  app.addHook('preParsing', (req, _reply, payload, done) => {
    if (req.method !== 'GET' || (!req.headers['content-length'] && !req.headers['transfer-encoding'])) return done(null, payload);
    readAll(payload, bodyLimit).then(
      (bytes) => {
        req.rawBody = bytes;
        done(null, payload);
      },
      (err: Error) => done(err),
    );
  });
}

async function readAll(stream: AsyncIterable<unknown>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CphError(Errors.bodyTooLarge);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
