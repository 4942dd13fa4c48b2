import type { CatalogueEntry } from '../domain/errors.js';

/** The caller an authenticator resolved; routes only ever see the project it may act on. */
export interface Caller {
  /** Who is calling, for logs (an access key, a user, or "anonymous"). */
  principal: string;
  /** Projects the caller may use; 'any' when authentication is off. */
  projects: 'any' | ReadonlySet<string>;
  /** The IAM user behind the credentials, when they name one (AK/SK or token under `--auth verify`). */
  user?: { id: string; name: string; domainId: string };
}

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
