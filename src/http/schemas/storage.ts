import { Limits } from '../../domain/limits.js';
import { StorageLimits } from '../../domain/storage.js';
import { pageQuery } from './common.js';
import { batchId } from './fleet.js';

/**
 * Bodies of the data export/restore and shared-storage calls (cph-api.md §3.8, §3.9). The schemas
 * hold shapes and sizes; the character and path rules are checked by domain/storage.ts, whose
 * answers say what is wrong.
 */

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
// Lengths here only stop absurd input early; the exact rules (bytes, charsets) follow in the route.
const path = text(StorageLimits.filePathBytes * 4);
const bucket = text(256);
const objectPath = text(StorageLimits.objectPathChars * 4);
const paths = { type: 'array', minItems: 1, maxItems: 100, items: path } as const;
const serverIds = { type: 'array', minItems: StorageLimits.serverIds.min, maxItems: StorageLimits.serverIds.max, items: batchId } as const;

export const exportBody = {
  type: 'object',
  required: ['storage_infos'],
  properties: {
    storage_infos: {
      type: 'array',
      minItems: 1,
      maxItems: Limits.batchTargetsMax,
      items: {
        type: 'object',
        required: ['phone_id', 'include_files', 'bucket_name', 'object_path'],
        properties: { phone_id: batchId, include_files: paths, exclude_files: { ...paths, minItems: 0 }, bucket_name: bucket, object_path: objectPath },
      },
    },
  },
} as const;

export const restoreBody = {
  type: 'object',
  required: ['restore_infos'],
  properties: {
    restore_infos: {
      type: 'array',
      minItems: 1,
      maxItems: Limits.batchTargetsMax,
      items: {
        type: 'object',
        required: ['phone_id', 'bucket_name', 'object_path'],
        properties: { phone_id: batchId, bucket_name: bucket, object_path: objectPath },
      },
    },
  },
} as const;

/** PushShareFiles and DeleteShareFiles share a method and path: `file_paths` makes it a delete. */
export const shareFilesBody = {
  type: 'object',
  required: ['server_ids'],
  properties: { server_ids: serverIds, bucket_name: bucket, object_path: objectPath, file_paths: paths },
} as const;

export const listShareFilesQuery = {
  type: 'object',
  required: ['server_ids', 'path'],
  properties: {
    server_ids: text(StorageLimits.serverIds.max * 40),
    path,
    ...pageQuery(StorageLimits.listShareFiles.limitMax, StorageLimits.listShareFiles.limitDefault),
  },
} as const;

export const pushShareAppsBody = {
  type: 'object',
  required: ['package_name', 'bucket_name', 'object_path', 'server_ids'],
  properties: { package_name: text(1024), pre_install_app: { type: 'integer', enum: [0, 1], default: 0 }, bucket_name: bucket, object_path: objectPath, server_ids: serverIds },
} as const;

export const deleteShareAppsBody = {
  type: 'object',
  required: ['package_name', 'server_ids'],
  properties: { package_name: text(1024), server_ids: serverIds },
} as const;
