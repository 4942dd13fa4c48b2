import { Limits } from '../../domain/limits.js';
import { pageQuery, projectParams } from './common.js';

/** Schemas of the tag operations (cph-api.md §3.10). Lengths count Unicode characters, as Ajv does. */

const str = { type: 'string' } as const;
const tagList = { type: 'array', items: { type: 'object', required: ['key', 'value'], properties: { key: str, value: str } } } as const;

export const RESOURCE_TYPE = 'cph-server';


export const tagResourceParams = {
  type: 'object',
  required: ['project_id', 'resource_id'],
  properties: { project_id: projectParams.properties.project_id, resource_id: { type: 'string', minLength: 1, maxLength: Limits.resourceIdBytes, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

/** `value` may be left out on delete (then the key goes whatever its value); create requires it. */
export const tagActionBody = {
  type: 'object',
  required: ['action', 'tags'],
  properties: {
    action: str,
    tags: {
      type: 'array',
      minItems: 1,
      maxItems: Limits.batchTargetsMax,
      items: { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: Limits.tags.keyChars }, value: { type: 'string', maxLength: Limits.tags.valueChars } } },
    },
  },
} as const;

export const resourceTagsResponse = { type: 'object', required: ['tags'], properties: { tags: tagList } } as const;

export const projectTagsQuery = { type: 'object', properties: pageQuery(Limits.tags.projectTags.limitMax, Limits.tags.projectTags.limitDefault) } as const;

export const projectTagsResponse = {
  type: 'object',
  required: ['tags', 'total_count'],
  properties: {
    tags: { type: 'array', items: { type: 'object', required: ['key', 'values'], properties: { key: str, values: { type: 'array', items: str } } } },
    total_count: { type: 'integer' },
  },
} as const;

/** offset and limit are strings on the wire (the SDK's model); they are read in the handler. */
export const resourceInstancesBody = {
  type: 'object',
  required: ['action'],
  properties: {
    action: str,
    offset: str,
    limit: str,
    without_any_tag: { type: 'boolean' },
    tags: {
      type: 'array',
      maxItems: Limits.tags.filterKeys,
      items: {
        type: 'object',
        required: ['key'],
        properties: {
          key: { type: 'string', minLength: 1, maxLength: Limits.tags.keyChars },
          values: { type: 'array', maxItems: Limits.tags.filterValues, uniqueItems: true, items: { type: 'string', maxLength: Limits.tags.valueChars } },
        },
      },
    },
    matches: {
      type: 'array',
      // Which keys may be matched (resource_name only) is checked by the handler: a `key` failing here would read as a tag's.
      items: { type: 'object', required: ['key', 'value'], properties: { key: str, value: { type: 'string', maxLength: Limits.tags.valueChars } } },
    },
  },
} as const;

export const resourceInstancesResponse = {
  type: 'object',
  properties: {
    resources: {
      type: 'array',
      items: {
        type: 'object',
        properties: { resource_id: str, resource_detail: str, resource_name: str, tags: tagList },
      },
    },
    total_count: { type: 'integer' },
  },
} as const;
