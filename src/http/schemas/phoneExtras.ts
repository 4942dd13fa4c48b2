import { Limits } from '../../domain/limits.js';
import { batchId } from './fleet.js';

export const CLIENT_TYPES = ['ANDROID', 'WINDOWS', 'H5_MOBILE', 'H5_PC', 'IOS'] as const;

/** Lists longer than their cap are refused in the handler, with a message that names the cap. */
export const connectionBody = {
  type: 'object',
  required: ['phone_ids', 'client_type'],
  properties: {
    phone_ids: { type: 'array', minItems: 1, maxItems: Limits.batchTargetsMax, items: batchId },
    client_type: { type: 'string', enum: CLIENT_TYPES },
  },
} as const;

const accessInfo = {
  type: 'object',
  properties: {
    access_ip: { type: 'string' },
    intranet_ip: { type: 'string' },
    access_ipv6: { type: 'string' },
    access_port: { type: 'integer' },
    session_id: { type: 'string' },
    timestamp: { type: 'string', description: 'Milliseconds since the epoch' },
    ticket: { type: 'string' },
  },
} as const;

export const connectionResponse = {
  type: 'object',
  required: ['request_id', 'connect_infos', 'errors'],
  properties: {
    request_id: { type: 'string' },
    connect_infos: { type: 'array', items: { type: 'object', properties: { phone_id: { type: 'string' }, access_info: accessInfo } } },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { phone_id: { type: 'string' }, error_code: { type: 'string' }, error_msg: { type: 'string' } } },
    },
  },
} as const;

export const expandVolumeBody = {
  type: 'object',
  required: ['phones'],
  properties: {
    phones: {
      type: 'array',
      minItems: 1,
      maxItems: Limits.batchTargetsMax,
      items: { type: 'object', required: ['phone_id', 'new_size'], properties: { phone_id: batchId, new_size: { type: 'integer' } } },
    },
  },
} as const;

export const importTrafficBody = {
  type: 'object',
  required: ['traffic_type', 'phone_ids'],
  properties: {
    traffic_type: { type: 'string', enum: ['direct', 'routing'] },
    phone_ids: { type: 'array', minItems: 1, maxItems: Limits.batchTargetsMax, items: batchId },
  },
} as const;
