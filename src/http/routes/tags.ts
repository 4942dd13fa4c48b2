import type { FastifyInstance } from 'fastify';
import { CphError, Errors, invalidParameter } from '../../domain/errors.js';
import { Limits } from '../../domain/limits.js';
import { duplicateKey, isValidTagKey, isValidTagValue, type Tag } from '../../domain/tags.js';
import { countTaggedServers, createTags, deleteTags, findTaggedServers, listProjectTags, listServerTags, type TagFilter, type TagToDelete, type TagWrite } from '../../store/tags.js';
import { errorResponses, projectParams } from '../schemas/common.js';
import {
  projectTagsQuery,
  projectTagsResponse,
  RESOURCE_TYPE,
  resourceInstancesBody,
  resourceInstancesResponse,
  resourceTagsResponse,
  tagActionBody,
  tagResourceParams,
} from '../schemas/tags.js';
import type { RouteDeps } from '../types.js';

type ProjectParams = { project_id: string };
type ResourceParams = ProjectParams & { resource_id: string };
interface TagActionBody {
  action: string;
  tags: { key: string; value?: string }[];
}
interface ResourceInstancesBody {
  action: string;
  offset?: string;
  limit?: string;
  without_any_tag?: boolean;
  tags?: { key: string; values?: string[] }[];
  matches?: { key: string; value: string }[];
}

/**
 * The tag operations of CPH (cph-api.md §3.10). CPH has one resource type, `cph-server`, and it is
 * written into the paths as a literal rather than a `:resource_type` parameter: any other type is no
 * API (404 APIGW.0101), and these routes can never take a call meant for /v1/{project_id}/cloud-phone/…
 * (see docs/decisions/0017-tag-paths-and-405.md). Their answers carry no request_id in the body, as CPH's do.
 */
export async function tagRoutes(app: FastifyInstance, { store }: RouteDeps): Promise<void> {
  const db = store.db;
  const base = `/v1/:project_id/${RESOURCE_TYPE}`;
  const tags = ['tags'];
  const resourceErrors = { resource_id: Errors.invalidServerId };

  app.post<{ Params: ResourceParams; Body: TagActionBody }>(
    `${base}/:resource_id/tags/action`,
    {
      config: { errorCodes: { ...resourceErrors, action: Errors.invalidAction } },
      schema: {
        operationId: 'BatchCreateTags',
        summary: 'Add tags to a server (action "create"; a key it has takes the new value) or remove them (action "delete", BatchDeleteTags)',
        tags,
        params: tagResourceParams,
        body: tagActionBody,
        response: { 204: { description: 'No Content', type: 'null' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { action, tags: list } = req.body;
      const { project_id: projectId, resource_id: serverId } = req.params;
      let result: TagWrite;
      if (action === 'create') result = await createTags(db, projectId, serverId, checkedNewTags(list), Limits.tags.perResource);
      else if (action === 'delete') result = await deleteTags(db, projectId, serverId, list satisfies TagToDelete[]);
      else throw new CphError(Errors.invalidAction, 'It must be create or delete.');
      if (result === 'notFound') throw new CphError(Errors.serverNotFound);
      if (result === 'tooMany') throw new CphError(Errors.tooManyTags);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: ResourceParams }>(
    `${base}/:resource_id/tags`,
    {
      config: { errorCodes: resourceErrors },
      schema: { operationId: 'ListResourceTags', summary: "A server's tags", tags, params: tagResourceParams, response: { 200: resourceTagsResponse, ...errorResponses } },
    },
    async (req) => {
      const list = await listServerTags(store, req.params.project_id, req.params.resource_id);
      if (!list) throw new CphError(Errors.serverNotFound);
      return { tags: list };
    },
  );

  app.get<{ Params: ProjectParams; Querystring: { offset: number; limit: number } }>(
    `${base}/tags`,
    {
      schema: { operationId: 'ListProjectTags', summary: "The tag keys of the project's servers, each with its values", tags, params: projectParams, querystring: projectTagsQuery, response: { 200: projectTagsResponse, ...errorResponses } },
    },
    async (req) => {
      const r = await listProjectTags(store, req.params.project_id, { offset: req.query.offset, limit: req.query.limit });
      return { tags: r.tags, total_count: r.total };
    },
  );

  app.post<{ Params: ProjectParams; Body: ResourceInstancesBody }>(
    `${base}/resource_instances/action`,
    {
      config: { errorCodes: { action: Errors.invalidAction, key: invalidParameter('tags'), values: invalidParameter('tags'), value: invalidParameter('matches') } },
      schema: {
        operationId: 'ListResourceInstances',
        summary: 'Servers by tags (keys ANDed, values ORed) and name: a page of them (action "filter") or how many (action "count")',
        tags,
        params: projectParams,
        body: resourceInstancesBody,
        response: { 200: resourceInstancesResponse, ...errorResponses },
      },
    },
    async (req) => {
      const body = req.body;
      if (body.action !== 'filter' && body.action !== 'count') throw new CphError(Errors.invalidAction, 'It must be filter or count.');
      const filter = checkedFilter(body);
      if (body.action === 'count') return { total_count: await countTaggedServers(store, req.params.project_id, filter) };
      const page = { offset: pageNumber(body.offset, 0, 0, Number.MAX_SAFE_INTEGER), limit: pageNumber(body.limit, Limits.tags.instances.limitDefault, 1, Limits.tags.instances.limitMax) };
      const [rows, total] = await Promise.all([findTaggedServers(store, req.params.project_id, filter, page), countTaggedServers(store, req.params.project_id, filter)]);
      return {
        resources: rows.map((s) => ({ resource_id: s.server_id, resource_detail: '', resource_name: s.server_name, tags: s.tags })),
        total_count: total,
      };
    },
  );
}

/** Tags to create: every key and value within CPH's rules, no key twice. */
function checkedNewTags(list: TagActionBody['tags']): Tag[] {
  for (const t of list) {
    if (!isValidTagKey(t.key)) throw new CphError(invalidParameter('key'), `A key is 1 to ${Limits.tags.keyChars} letters, digits, spaces or _.:=+-@, with no space at either end, and does not start with _sys_.`);
    if (t.value === undefined || !isValidTagValue(t.value)) throw new CphError(invalidParameter('value'), `A value is 1 to ${Limits.tags.valueChars} letters, digits, spaces or _.:=+-@, with no space at either end.`);
  }
  const twice = duplicateKey(list.map((t) => t.key));
  if (twice !== undefined) throw new CphError(invalidParameter('tags'), `The key ${JSON.stringify(twice)} is given twice.`);
  return list.map((t) => ({ key: t.key, value: t.value! }));
}

/** The filter of a ListResourceInstances body; `without_any_tag` makes `tags` moot, as in Huawei's other tag APIs. */
function checkedFilter(body: ResourceInstancesBody): TagFilter {
  const tagFilters = (body.tags ?? []).map((t) => ({ key: t.key, values: t.values ?? [] }));
  const twice = duplicateKey(tagFilters.map((t) => t.key));
  if (twice !== undefined) throw new CphError(invalidParameter('tags'), `The key ${JSON.stringify(twice)} is given twice.`);
  const matches = body.matches ?? [];
  if (matches.some((m) => m.key !== 'resource_name')) throw new CphError(invalidParameter('matches'), 'Only resource_name can be matched.');
  return { withoutAnyTag: body.without_any_tag === true, tags: tagFilters, names: matches.map((m) => m.value) };
}

/** offset/limit of ListResourceInstances: decimal digits in a string, within bounds (CPS.0002 otherwise). */
function pageNumber(text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new CphError(Errors.pageParams);
  return n;
}
