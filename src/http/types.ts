import type { Caller } from '../auth/verify.js';
import type { CatalogueEntry } from '../domain/errors.js';

export type { Caller };

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes of the body, kept for AK/SK signature verification. */
    rawBody?: Buffer;
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** Which catalogue entry a validation failure on a given field answers with (default: CPS.0034 naming the field). */
    errorCodes?: Record<string, CatalogueEntry>;
  }
}

/** What every CPH route plugin is given: the store to read and the engine to submit to. */
export interface RouteDeps {
  store: import('../store/db.js').ReadStore;
  engine: import('../engine/engine.js').Engine;
}

export type RoutePlugin = (app: import('fastify').FastifyInstance, deps: RouteDeps) => Promise<void>;
