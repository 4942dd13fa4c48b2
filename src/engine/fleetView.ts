import type { EncodeServer, Image, Phone, Server } from '../domain/fleet.js';
import type { EncodeServerRow } from '../store/encodeServers.js';
import type { ImageRow, PhoneRow, ServerRow } from '../store/fleet.js';

/** Stored fleet rows as drivers see them (src/domain/fleet.ts). */

export function phoneOf(r: PhoneRow): Phone {
  return {
    phoneId: r.phone_id,
    serverId: r.server_id,
    name: r.phone_name,
    modelName: r.phone_model_name,
    imageId: r.image_id,
    status: r.status,
    property: r.property,
    ip: r.phone_ip,
    listenPort: r.listen_port,
    createTime: r.create_time,
    volumeSize: r.volume_size,
    trafficType: r.traffic_type,
  };
}

export function encodeServerOf(r: EncodeServerRow): EncodeServer {
  return { encodeServerId: r.encode_server_id, serverId: r.server_id, name: r.encode_server_name, type: r.type, status: r.status, ip: r.encode_server_ip };
}

export function serverOf(r: ServerRow): Server {
  return { serverId: r.server_id, name: r.server_name, status: r.status, ip: r.server_ip };
}

export function imageOf(r: ImageRow): Image {
  return { imageId: r.image_id, imageName: r.image_name, imageVersion: r.image_version, osName: r.os_name };
}
