import { Limits } from '../../domain/limits.js';
import { batchId } from './fleet.js';
import { pageQuery, queryInteger } from './common.js';

export const listEncodeServersQuery = {
  type: 'object',
  properties: {
    ...pageQuery(100, 100),
    type: { ...queryInteger(0, 1), description: '0 server, 1 container' },
    status: { ...queryInteger(), description: '1 running, 2 abnormal, 3 restarting, 4 frozen, 5 shut down, 100/1014/0 creating' },
    server_id: { type: 'string', maxLength: Limits.resourceIdBytes },
  },
} as const;

const encodeServerItem = {
  type: 'object',
  properties: {
    encode_server_name: { type: 'string' },
    encode_server_id: { type: 'string' },
    encode_server_ip: { type: 'string' },
    server_id: { type: 'string' },
    keypair_name: { type: 'string' },
    type: { type: 'integer', description: '0 server, 1 container' },
    status: { type: 'integer', description: '1 running, 2 abnormal, 3 restarting, 0/4/5 creating' },
    access_infos: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          listen_port: { type: 'integer' },
          access_ip: { type: 'string' },
          intranet_ip: { type: 'string' },
          public_ip: { type: 'string' },
          server_ip: { type: 'string' },
          access_port: { type: 'integer' },
          type: { type: 'string' },
          server_ipv6: { type: 'string' },
        },
      },
    },
    encode_server_ipv6: { type: 'string' },
  },
} as const;

export const listEncodeServersResponse = {
  type: 'object',
  required: ['request_id', 'encode_servers'],
  properties: { request_id: { type: 'string' }, encode_servers: { type: 'array', items: encodeServerItem } },
} as const;

export const restartEncodeServersBody = {
  type: 'object',
  required: ['encode_server_ids'],
  properties: { encode_server_ids: { type: 'array', minItems: 1, maxItems: Limits.restartServerIds.max, items: batchId } },
} as const;
