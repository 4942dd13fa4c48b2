import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

/**
 * The framework's floor for one route: a Fastify app with that route alone (the same path pattern,
 * so routing parses the same parameters), answering every call with fixed bytes and headers. No
 * hooks, no logger, no validation, no schema: what Fastify itself costs for the call.
 */
const [port, route, bodyFile, headersJson] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const headers = JSON.parse(headersJson);
const app = Fastify({ keepAliveTimeout: 72_000 });
app.get(route, (_req, reply) => {
  reply.headers(headers).send(body);
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  app.server.closeAllConnections();
  app.close().then(() => process.exit(0));
});
