import { Limits } from '../../domain/limits.js';
import { pageQuery, queryInteger } from './common.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

export const phoneSchema = {
  type: 'object',
  properties: {
    phone_name: str,
    server_id: str,
    phone_id: str,
    phone_model_name: str,
    image_id: str,
    image_version: str,
    vnc_enable: str,
    status: { type: 'integer', description: '1 creating, 2 running, 3 resetting, 4 restarting, 6 frozen, 7 stopping, 8 stopped, -5 reset failed, -6 restart failed, -7 abnormal, -8 creation failed, -9 stop failed' },
    type: int,
    imei: str,
    traffic_type: str,
    volume_mode: int,
    availability_zone: str,
    metadata: { type: 'object', properties: { order_id: str, product_id: str } },
    has_encrypt: { type: 'boolean' },
    create_time: str,
    update_time: str,
  },
} as const;

export const phoneDetailSchema = {
  type: 'object',
  properties: {
    request_id: str,
    ...phoneSchema.properties,
    access_infos: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          type: str,
          device_ip: str,
          phone_ip: str,
          listen_port: int,
          access_ip: str,
          public_ip: str,
          intranet_ip: str,
          server_ip: str,
          access_port: int,
          phone_ipv6: str,
          server_ipv6: str,
        },
      },
    },
    property: str,
    phone_data_volume: { type: 'object', properties: { volume_type: str, volume_size: int } },
  },
} as const;

export const listPhonesQuery = {
  type: 'object',
  properties: {
    ...pageQuery(Limits.listPhones.limitMax, Limits.listPhones.limitDefault),
    phone_name: { type: 'string', maxLength: 65, description: 'Substring of the phone name' },
    server_id: { type: 'string', maxLength: 32 },
    status: queryInteger(),
    type: { ...queryInteger(0, 1), enum: [0, 1] },
  },
} as const;

export const listPhonesResponse = {
  type: 'object',
  properties: { request_id: str, count: int, phones: { type: 'array', items: phoneSchema } },
} as const;

export const serverSchema = {
  type: 'object',
  properties: {
    server_name: str,
    availability_zone: str,
    server_id: str,
    server_model_name: str,
    phone_model_name: str,
    keypair_name: str,
    status: { type: 'integer', description: '0/1/3/4 creating, 2 abnormal, 5 normal, 8 frozen, 10 shut down, 11 shutting down, 12 shutdown failed, 13 starting' },
    vpc_id: str,
    cidr: str,
    vpc_cidr: str,
    subnet_id: str,
    subnet_cidr: str,
    addresses: { type: 'array', items: { type: 'object', properties: { intranet_ip: str, access_ip: str, server_ip: str, public_ip: str } } },
    resource_project_id: str,
    metadata: { type: 'object', properties: { product_id: str, order_id: str, charging_mode: int } },
    network_version: str,
    enterprise_project_id: str,
    create_time: str,
    update_time: str,
  },
} as const;

export const bandwidthSchema = {
  type: 'object',
  properties: { band_width_name: str, band_width_id: str, band_width_size: int, band_width_charge_mode: int, band_width_share_type: int, create_time: str, update_time: str },
} as const;

export const serverDetailSchema = {
  type: 'object',
  properties: {
    request_id: str,
    ...serverSchema.properties,
    band_widths: { type: 'array', items: bandwidthSchema },
    volumes: {
      type: 'array',
      items: { type: 'object', properties: { volume_name: str, volume_id: str, volume_size: int, volume_type: str, create_time: str, update_time: str } },
    },
    share_volume_info: { type: 'object', properties: { volume_type: str, size: int, version: int } },
    security_groups: { type: 'array', items: str },
  },
} as const;

export const listServersQuery = {
  type: 'object',
  properties: {
    ...pageQuery(Limits.listServers.limitMax, Limits.listServers.limitDefault),
    server_name: { type: 'string', maxLength: 65, description: 'Substring of the server name' },
    server_id: { type: 'string', maxLength: 32 },
    network_version: { type: 'string', enum: ['v1', 'v2'] },
    phone_model_name: { type: 'string', maxLength: 64 },
    create_since: { ...queryInteger(), description: 'Created at or after, milliseconds since the epoch' },
    create_until: { ...queryInteger(), description: 'Created at or before, milliseconds since the epoch' },
    status: queryInteger(),
  },
} as const;

export const listServersResponse = {
  type: 'object',
  properties: { request_id: str, count: int, servers: { type: 'array', items: serverSchema } },
} as const;

const phoneIdParam = { type: 'string', minLength: 1, maxLength: Limits.resourceIdBytes, pattern: '^[A-Za-z0-9_-]+$' } as const;

export const phoneParams = {
  type: 'object',
  required: ['project_id', 'phone_id'],
  properties: { project_id: str, phone_id: phoneIdParam },
} as const;

export const serverParams = {
  type: 'object',
  required: ['project_id', 'server_id'],
  properties: { project_id: str, server_id: phoneIdParam },
} as const;

/** Batch items may name ids that are not valid: those answer per item, so only absurd lengths are rejected whole. */
export const batchId = { type: 'string', maxLength: 256 } as const;

export const phonePropertyItems = {
  type: 'array',
  minItems: 1,
  maxItems: Limits.batchTargetsMax,
  items: {
    type: 'object',
    required: ['phone_id'],
    properties: { phone_id: batchId, property: { type: 'string', maxLength: 8192 } },
  },
} as const;

export const restartResetBody = {
  type: 'object',
  required: ['phones'],
  properties: { image_id: { type: 'string', maxLength: 64 }, phones: phonePropertyItems },
} as const;

export const updatePropertyBody = {
  type: 'object',
  required: ['phones'],
  properties: {
    phones: {
      ...phonePropertyItems,
      items: { ...phonePropertyItems.items, required: ['phone_id', 'property'] },
    },
  },
} as const;

export const stopBody = {
  type: 'object',
  required: ['phone_ids'],
  properties: { phone_ids: { type: 'array', minItems: 1, maxItems: Limits.batchTargetsMax, items: batchId } },
} as const;

export const restartServersBody = {
  type: 'object',
  required: ['server_ids'],
  properties: { server_ids: { type: 'array', minItems: Limits.restartServerIds.min, maxItems: Limits.restartServerIds.max, items: batchId } },
} as const;

export const phoneNameBody = {
  type: 'object',
  required: ['phone_name'],
  properties: { phone_name: { type: 'string' } },
} as const;

export const serverNameBody = {
  type: 'object',
  required: ['server_name'],
  properties: { server_name: { type: 'string' } },
} as const;
