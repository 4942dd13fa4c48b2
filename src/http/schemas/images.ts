import { Limits } from '../../domain/limits.js';
import { pageQuery, queryInteger } from './common.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const resourceId = { type: 'string', minLength: 1, maxLength: Limits.resourceIdBytes, pattern: '^[A-Za-z0-9_-]+$' } as const;

export const phoneImagesQuery = {
  type: 'object',
  properties: { image_type: { type: 'string', enum: ['public', 'private', 'share', 'all'], default: 'all' } },
} as const;

const phoneImage = {
  type: 'object',
  properties: {
    image_name: str,
    os_type: str,
    is_public: { type: 'integer', description: '1 public, 2 private (the project’s own or shared to it)' },
    os_name: str,
    image_label: str,
    image_id: str,
    is_support_encrypt: { type: 'boolean' },
  },
} as const;

export const phoneImagesResponse = {
  type: 'object',
  properties: { request_id: str, phone_images: { type: 'array', items: phoneImage } },
} as const;

export const listImagesQuery = {
  type: 'object',
  properties: {
    image_type: { type: 'string', enum: ['private', 'share'] },
    status: queryInteger(),
    ...pageQuery(100, 100),
    image_id: { type: 'string', maxLength: Limits.resourceIdBytes },
    image_name: { type: 'string', maxLength: 128, description: 'Substring of the image name' },
    create_since: { ...queryInteger(), description: 'Created at or after, milliseconds since the epoch' },
    create_until: { ...queryInteger(), description: 'Created at or before, milliseconds since the epoch' },
    src_project_id: { type: 'string', maxLength: 32, description: 'The project that shared the image' },
  },
} as const;

const listImagesView = {
  type: 'object',
  properties: {
    domain_id: str,
    image_name: str,
    update_time: str,
    create_time: str,
    image_size: { type: 'integer', description: 'Bytes' },
    project_id: { type: 'string', description: 'Only for private images' },
    image_id: str,
    image_version: str,
    image_type: { type: 'string', enum: ['private', 'share'] },
    status: { type: 'integer', description: '0 creating, 1 production, 2 create failed' },
    src_project_id: { type: 'string', description: 'Only for shared images' },
  },
} as const;

export const listImagesResponse = {
  type: 'object',
  properties: { image_infos: { type: 'array', items: listImagesView }, total: int, request_id: str },
} as const;

export const imageParams = {
  type: 'object',
  required: ['project_id', 'image_id'],
  properties: { project_id: str, image_id: resourceId },
} as const;

export const imageMemberParams = {
  type: 'object',
  required: ['project_id', 'image_id', 'member_id'],
  properties: { project_id: str, image_id: resourceId, member_id: { type: 'string', maxLength: 64 } },
} as const;

/** `{request_id, error_msg, error_code}` of DeleteImage and the member calls: both "" on success. */
export const requestIdWithError = {
  type: 'object',
  required: ['request_id'],
  properties: { request_id: str, error_msg: str, error_code: str },
} as const;

export const addMemberBody = {
  type: 'object',
  properties: { member: { type: 'string', maxLength: 64, description: 'The project_id to share the image with' } },
} as const;

export const updateMemberBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['accepted', 'rejected'] } },
} as const;

export const listMembersResponse = {
  type: 'object',
  properties: {
    members: {
      type: 'array',
      items: { type: 'object', properties: { create_time: { type: 'integer', description: 'Milliseconds since the epoch' }, update_time: int, image_id: str, member_id: str } },
    },
  },
} as const;
