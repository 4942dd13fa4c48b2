import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';

/**
 * JSON bodies are read as bytes first: signature verification hashes exactly what was sent.
 * An empty body parses as "no body" (the SDK sends content-type: application/json on every call).
 * JSON is the only body taken: any other content type (Fastify's own text/plain parser included)
 * answers 415 before authentication runs, so a signed call with such a body is neither verified
 * against a body it did not read nor counted as a failed signature.
 */
export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body: Buffer, done) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch {
      done(new CphError(invalidParameter('body'), 'The body is not valid JSON.'), undefined);
    }
  });

  // GET and HEAD bodies are never parsed, yet a client may send and sign one (the SDK's own IAM calls send
  // "{}" with GET): keep the bytes for the signature check. A callback hook: it runs on every
  // request, and nearly all of them pass straight through.
  app.addHook('preParsing', (req, _reply, payload, done) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (!req.headers['content-length'] && !req.headers['transfer-encoding'])) return done(null, payload);
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

/**
 * How long, and for how many more bytes, a connection closed before its request was read keeps
 * reading. Closing at once would make the client's next write draw a reset, and a reset can discard
 * the answer before the client has read it.
 */
export const LINGER = { ms: 5_000, bytes: 16 * 1024 * 1024 } as const;

const lingering = new WeakSet<Socket>();

/**
 * End our side of the connection (after whatever is written), read and drop what the client still
 * sends until it ends its side or LINGER runs out, then destroy the socket.
 */
export function closeGracefully(socket: Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  if (socket.writable) socket.end();
  let left: number = LINGER.bytes;
  const stop = () => socket.destroy();
  const timer = setTimeout(stop, LINGER.ms);
  timer.unref();
  socket.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) stop();
  });
  socket.once('end', stop);
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}

/**
 * Once the answer on `socket` is written, close it gracefully rather than destroy it. node:http
 * ends a connection whose answer says `Connection: close` with `socket.destroySoon()`; this socket's
 * own one is replaced.
 */
export function closeAfterAnswer(socket: Socket | null): void {
  if (socket) socket.destroySoon = () => closeGracefully(socket);
}
