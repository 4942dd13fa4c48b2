import type { FastifyInstance, FastifyRequest } from 'fastify';
import { inspectToken, issueToken, parseTokenRequest, projectsOf, type TokenInfo } from '../../auth/iam.js';
import type { OnLockout } from '../../auth/lockout.js';
import { CphError, Errors } from '../../domain/errors.js';
import { formatIamTime, type Clock } from '../../domain/time.js';
import type { Db } from '../../store/db.js';
import type { Authenticator } from '../../auth/authenticator.js';
import { credentialsOf } from '../plugins/auth.js';
import { errorBody } from '../schemas/common.js';

/**
 * The slice of IAM (Keystone v3) that CPH clients use: password tokens, token checks, and project
 * discovery by name (what the SDK does when built with a region and no project id). cph-api.md §6.1.
 * Bodies of these calls carry passwords and tokens: nothing here logs them.
 */

const named = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } as const;
const withDomain = { type: 'object', properties: { ...named.properties, domain: named } } as const;

const tokenSchema = {
  type: 'object',
  properties: {
    token: {
      type: 'object',
      properties: {
        expires_at: { type: 'string' },
        issued_at: { type: 'string' },
        methods: { type: 'array', items: { type: 'string' } },
        project: withDomain,
        user: { type: 'object', properties: { ...withDomain.properties, password_expires_at: { type: 'string' } } },
        roles: { type: 'array', items: named },
        catalog: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              name: { type: 'string' },
              type: { type: 'string' },
              endpoints: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, interface: { type: 'string' }, region: { type: 'string' }, region_id: { type: 'string' }, url: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

const projectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    domain_id: { type: 'string' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    is_domain: { type: 'boolean' },
    parent_id: { type: 'string' },
    links: { type: 'object', properties: { self: { type: 'string' } } },
  },
} as const;

const linksSchema = { type: 'object', properties: { self: { type: 'string' }, previous: { type: ['string', 'null'] }, next: { type: ['string', 'null'] } } } as const;

const iamErrors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody } as const;
const tokenQuery = { type: 'object', properties: { nocatalog: { type: 'string' } } } as const;

/** This server as the client reached it. */
function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

function tokenBody(info: TokenInfo, req: FastifyRequest, withCatalog: boolean) {
  return {
    token: {
      expires_at: formatIamTime(info.expiresAt),
      issued_at: formatIamTime(info.issuedAt),
      methods: info.methods,
      project: info.project,
      user: { ...info.user, password_expires_at: '' },
      roles: [{ id: '0', name: 'te_admin' }],
      ...(withCatalog
        ? {
            catalog: [
              {
                id: 'cph',
                name: 'cph',
                type: 'cph',
                endpoints: [{ id: 'cph-public', interface: 'public', region: info.project.name, region_id: info.project.name, url: baseUrl(req) }],
              },
            ],
          }
        : {}),
    },
  };
}

export async function iamRoutes(app: FastifyInstance, o: { db: Db; clock: Clock; authenticator: Authenticator; onLockout?: OnLockout }): Promise<void> {
  const deps = { db: o.db, clock: o.clock };
  const tags = ['iam'];
  const authenticate = async (req: FastifyRequest) => {
    req.caller = await o.authenticator.authenticate(credentialsOf(req));
  };

  app.post<{ Querystring: { nocatalog?: string } }>(
    '/v3/auth/tokens',
    {
      schema: {
        operationId: 'KeystoneCreateUserTokenByPassword',
        summary: 'Get a project-scoped token with a user name and password (token in X-Subject-Token)',
        tags,
        security: [],
        querystring: tokenQuery,
        response: { 201: tokenSchema, ...iamErrors },
      },
    },
    async (req, reply) => {
      const { token, info } = await issueToken({ ...deps, log: req.log, onLockout: o.onLockout }, parseTokenRequest(req.body));
      reply.code(201).header('X-Subject-Token', token);
      return tokenBody(info, req, !req.query.nocatalog);
    },
  );

  app.get<{ Querystring: { nocatalog?: string } }>(
    '/v3/auth/tokens',
    {
      preValidation: authenticate,
      schema: {
        operationId: 'KeystoneValidateToken',
        summary: 'Check the token in X-Subject-Token (the caller authenticates as usual)',
        tags,
        querystring: tokenQuery,
        response: { 200: tokenSchema, ...iamErrors },
      },
    },
    async (req, reply) => {
      const subject = req.headers['x-subject-token'];
      if (typeof subject !== 'string' || subject === '') throw new CphError(Errors.iamBadRequest, 'Send the token to check in X-Subject-Token.');
      const info = await inspectToken(deps, req.caller ?? {}, subject);
      reply.header('X-Subject-Token', subject);
      return tokenBody(info, req, !req.query.nocatalog);
    },
  );

  app.get<{ Querystring: { name?: string } }>(
    '/v3/projects',
    {
      preValidation: authenticate,
      schema: {
        operationId: 'KeystoneListProjects',
        summary: "The caller's projects, optionally by name",
        tags,
        querystring: { type: 'object', properties: { name: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { projects: { type: 'array', items: projectSchema }, links: linksSchema } }, ...iamErrors },
      },
    },
    async (req) => {
      const base = baseUrl(req);
      const rows = await projectsOf(deps, req.caller ?? { projects: new Set() }, req.query.name);
      return {
        projects: rows.map((p) => ({
          id: p.project_id,
          name: p.name,
          domain_id: p.domain_id ?? '',
          description: '',
          enabled: true,
          is_domain: false,
          parent_id: p.domain_id ?? '',
          links: { self: `${base}/v3/projects/${p.project_id}` },
        })),
        links: { self: `${base}/v3/projects`, previous: null, next: null },
      };
    },
  );
}
