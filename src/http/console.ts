import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where `npm run build` puts the console (web/, built by Vite): <package>/dist/console. This file is
 * src/http/console.ts or dist/http/console.js, two levels below the package either way.
 */
export const BUILT_CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/**
 * The page may load only from this server and talk only to it: no inline script, nothing from
 * elsewhere, and no other site may frame it.
 */
const POLICY = "default-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/**
 * The web console at /console/: the built files, through the same app, hooks and error answers as
 * every other route. A file under assets/ is named by its content's hash, so it is cached for good;
 * the page itself is checked again on each load, so a new build is seen at once.
 */
export async function consoleRoutes(app: FastifyInstance, o: { dir: string }): Promise<void> {
  if (!existsSync(join(o.dir, 'index.html'))) {
    app.log.warn({ dir: o.dir }, 'the console is not built (npm run build): /console answers 404');
    return;
  }
  await app.register(fastifyStatic, {
    root: o.dir,
    prefix: '/console/',
    // One route for every file, read when asked (a build while the server runs is served at once);
    // a path that is no file is the app's 404, in CPH's format.
    wildcard: true,
    index: 'index.html',
    decorateReply: true,
    schemaHide: true,
    dotfiles: 'deny',
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader('Cache-Control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.setHeader('Content-Security-Policy', POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
    },
  });
  // The router ignores a trailing slash, so /console/ is /console, which the wildcard does not
  // match: the page is served here. Its addresses are absolute (/console/assets/…), so either works.
  app.get('/console', { schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
}
