/**
 * Bodies of the server lifecycle calls (cph-api.md §3.3.1–3.3.3). The schema holds the shapes and
 * enums; ranges that share a field name with another rule (`count`, `size`) and rules across
 * fields are checked by the handler, so each answers with its own message.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const flag = { type: 'integer', enum: [0, 1] } as const;
export const UUID = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;

const ports = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'listen_port', 'internet_accessible'],
    properties: { name: str, listen_port: { type: 'integer', minimum: 10000, maximum: 50000 }, internet_accessible: str },
  },
} as const;

const chargingParam = {
  type: 'object',
  required: ['charging_mode'],
  properties: { charging_mode: flag, period_type: { type: 'integer', enum: [2, 3] }, period_num: int, is_auto_pay: flag, is_auto_renew: flag },
} as const;

const bandWidth = {
  type: 'object',
  required: ['band_width_charge_mode', 'band_width_share_type'],
  properties: { band_width_id: str, band_width_size: int, band_width_charge_mode: flag, band_width_share_type: flag },
} as const;

const volume = { type: 'object', required: ['volume_type', 'size'], properties: { volume_type: { type: 'string', enum: ['SSD', 'GPSSD'] }, size: int } } as const;

const eipTypes = ['5_telcom', '5_union', '5_bgp', '5_sbgp'];

/** What CreateNet2CloudPhoneServer and ChangeCloudPhoneServer share. */
const net2Common = {
  keypair_name: str,
  ports,
  tenant_vpc_id: UUID,
  nics: {
    type: 'array',
    minItems: 1,
    items: {
      type: 'object',
      required: ['subnet_id'],
      properties: { subnet_id: UUID, ipv6_enable: { type: 'boolean' }, ipv6_bandwidth: { type: 'object', required: ['band_width_id'], properties: { band_width_id: str } } },
    },
  },
  public_ip: {
    type: 'object',
    properties: { ids: { type: 'array', maxItems: 1, items: str }, eip: { type: 'object', required: ['type'], properties: { type: { type: 'string', enum: eipTypes } } }, count: int },
  },
  phone_count_per_ip: { type: 'integer', minimum: 1 },
  phone_data_volume: volume,
  server_share_data_volume: volume,
  band_width: bandWidth,
  availability_zone: { type: 'string', maxLength: 64 },
  property: { type: 'string', minLength: 1, maxLength: 8192 },
} as const;

export const createNet2Body = {
  type: 'object',
  required: ['server_name', 'server_model_name', 'phone_model_name', 'image_id', 'count', 'extend_param', 'tenant_vpc_id', 'nics', 'public_ip', 'band_width'],
  properties: {
    server_name: str,
    server_model_name: str,
    phone_model_name: str,
    image_id: str,
    count: int,
    extend_param: { type: 'object', required: ['charging_mode'], properties: { ...chargingParam.properties, enterprise_project_id: { type: 'string', maxLength: 64 } } },
    ...net2Common,
  },
} as const;

export const createSingleBody = {
  type: 'object',
  required: ['server_name', 'server_model_name', 'count', 'order_param', 'nics', 'public_ip', 'keypair_name'],
  properties: {
    server_name: str,
    server_model_name: str,
    count: int,
    order_param: chargingParam,
    nics: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['subnet_id'], properties: { subnet_id: UUID, ipv6_enable: { type: 'boolean' }, ipv6_band_width_id: str } },
    },
    public_ip: {
      type: 'object',
      required: ['band_width'],
      properties: { ids: { type: 'array', maxItems: 1, items: str }, type: { type: 'string', enum: eipTypes }, count: int, band_width: bandWidth },
    },
    availability_zone: { type: 'string', maxLength: 64 },
    data_volume: { ...volume, properties: { ...volume.properties, count: int } },
    keypair_name: str,
    enterprise_project_id: { type: 'string', maxLength: 64 },
    image_id: str,
  },
} as const;

export const changeServerBody = {
  type: 'object',
  required: ['phone_model_name', 'image_id', 'tenant_vpc_id', 'nics', 'public_ip', 'band_width'],
  properties: {
    phone_model_name: str,
    image_id: str,
    extend_param: { type: 'object', properties: { enterprise_project_id: { type: 'string', maxLength: 64 } } },
    ...net2Common,
  },
} as const;

export const changeServerModelBody = {
  type: 'object',
  required: ['server_id', 'server_model_name', 'phone_model_name'],
  properties: { server_id: str, server_model_name: str, phone_model_name: str, extend_param: { type: 'object', properties: { is_auto_pay: flag } } },
} as const;

export const deleteServersBody = {
  type: 'object',
  required: ['server_ids'],
  properties: { server_ids: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', maxLength: 256 } } },
} as const;

export const updateKeypairBody = {
  type: 'object',
  required: ['servers'],
  properties: {
    servers: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: { type: 'object', required: ['server_id', 'keypair_name'], properties: { server_id: { type: 'string', maxLength: 256 }, keypair_name: str } },
    },
  },
} as const;

export const orderResponse = {
  type: 'object',
  properties: { request_id: str, order_id: str, product_id: str, server_ids: { type: 'array', items: str } },
} as const;

export const jobResponse = { type: 'object', properties: { request_id: str, job_id: str, server_id: str } } as const;
