import { formatUtc, formatUtcOrNull } from '../domain/time.js';
import type { EncodeServerRow } from '../store/encodeServers.js';
import type { PhoneView, ServerRow } from '../store/fleet.js';
import type { JobView } from '../store/jobs.js';
import type { BandwidthRow, VolumeRow } from '../store/serverOrders.js';
import { bandwidth, volume } from './wireServers.js';

/** The one mapping from stored rows to CPH's wire objects. */

/**
 * ListJobs body around the jobs' items, which the store keeps as JSON text (`listJob` below, as
 * src/store/jobItems.ts renders it in SQL): joined as they are rather than parsed and serialized again.
 */
export function listJobsBody(requestId: string, items: readonly string[]): string {
  return `{"request_id":${JSON.stringify(requestId)},"jobs":[${items.join(',')}]}`;
}

/**
 * ListJobs item, key for key as CPH's ListJobs example: a phone job `phone_id`, `server_id`, a
 * server job `server_id` alone; then `node_id` (the server again), `job_id`, the times (`end_time`
 * null while running), `status`, and `error_code`, `error_msg`, `execute_msg`, each "" when absent.
 * An encode-server job shows `encode_server_id` in place of all three ids (CPH's EncodeServerJob;
 * the old ListJobs page's Job field). The store keeps this item rendered by the database (src/store/jobItems.ts), which a test holds to
 * the same bytes as this.
 */
export function listJob(j: JobView) {
  const fields = {
    job_id: j.job_id,
    begin_time: formatUtc(j.begin_time),
    end_time: formatUtcOrNull(j.end_time),
    status: j.status,
    error_code: j.error_code ?? '',
    error_msg: j.error_msg ?? '',
    execute_msg: j.execute_msg ?? '',
  };
  if (j.encode_server_id != null) return { encode_server_id: j.encode_server_id, ...fields };
  const item = { node_id: j.server_id, ...fields };
  return j.phone_id !== null ? { phone_id: j.phone_id, server_id: j.server_id, ...item } : { server_id: j.server_id, ...item };
}

/**
 * ShowJob body: absent values are null, as CPH's ShowJob example shows, where its ListJobs example
 * shows "" (listJob): the two routes differ on CPH too (cph-api.md §2, docs/decisions/0033). An
 * encode-server job has `encode_server_id` instead of `phone_id` and `server_id`.
 */
export function showJob(j: JobView, requestId: string) {
  const head = { request_id: requestId, job_id: j.job_id, begin_time: formatUtc(j.begin_time), end_time: formatUtcOrNull(j.end_time), status: j.status };
  const messages = { error_code: j.error_code, error_msg: j.error_msg, execute_msg: j.execute_msg };
  if (j.encode_server_id != null) return { ...head, encode_server_id: j.encode_server_id, ...messages };
  return { ...head, phone_id: j.phone_id, server_id: j.server_id, ...messages };
}

export function phone(p: PhoneView) {
  return {
    phone_name: p.phone_name,
    server_id: p.server_id,
    phone_id: p.phone_id,
    phone_model_name: p.phone_model_name,
    image_id: p.image_id,
    image_version: p.image_version ?? '',
    vnc_enable: 'false',
    status: p.status,
    type: p.type,
    imei: p.imei,
    traffic_type: p.traffic_type,
    volume_mode: p.volume_mode,
    availability_zone: p.availability_zone,
    metadata: { order_id: p.order_id ?? '', product_id: p.product_id ?? '' },
    has_encrypt: p.has_encrypt === 1,
    create_time: formatUtc(p.create_time),
    update_time: formatUtc(p.update_time),
  };
}

export function phoneDetail(p: PhoneView, requestId: string) {
  return {
    request_id: requestId,
    ...phone(p),
    access_infos: [
      {
        type: 'adb',
        device_ip: p.phone_ip,
        phone_ip: p.phone_ip,
        listen_port: p.listen_port,
        access_ip: p.public_ip ?? '',
        public_ip: '',
        intranet_ip: p.server_ip ?? '',
        server_ip: p.server_ip ?? '',
        access_port: p.listen_port,
        phone_ipv6: '',
        server_ipv6: '',
      },
    ],
    property: p.property,
    phone_data_volume: { volume_type: 'SSD', volume_size: p.volume_size },
  };
}

export function server(s: ServerRow) {
  return {
    server_name: s.server_name,
    availability_zone: s.availability_zone,
    server_id: s.server_id,
    server_model_name: s.server_model_name,
    phone_model_name: s.phone_model_name,
    keypair_name: s.keypair_name,
    status: s.status,
    vpc_id: s.vpc_id,
    cidr: '172.16.0.0/16',
    vpc_cidr: '10.0.0.0/16',
    subnet_id: s.subnet_id,
    subnet_cidr: '10.0.0.0/24',
    addresses: [{ intranet_ip: s.server_ip, access_ip: s.public_ip, server_ip: s.server_ip, public_ip: s.public_ip }],
    resource_project_id: s.project_id,
    metadata: { product_id: s.product_id, order_id: s.order_id, charging_mode: s.charging_mode },
    network_version: s.network_version,
    enterprise_project_id: s.enterprise_project_id,
    create_time: formatUtc(s.create_time),
    update_time: formatUtc(s.update_time),
  };
}

/** `res`: the server's bandwidths and volumes; a shared volume exists on spec 2.0 only (version 1). */
export function serverDetail(s: ServerRow, requestId: string, res: { bandwidths: readonly BandwidthRow[]; volumes: readonly VolumeRow[] }) {
  return {
    request_id: requestId,
    ...server(s),
    band_widths: res.bandwidths.map(bandwidth),
    volumes: res.volumes.map(volume),
    share_volume_info: { volume_type: s.share_volume_type, size: s.share_volume_size, version: s.share_volume_size > 0 ? 1 : 0 },
    security_groups: [],
  };
}

/** EncodeServer (cph-api.md §4.5): its one access info is where its encode service listens. */
export function encodeServer(e: EncodeServerRow) {
  return {
    encode_server_name: e.encode_server_name,
    encode_server_id: e.encode_server_id,
    encode_server_ip: e.encode_server_ip,
    server_id: e.server_id,
    keypair_name: e.keypair_name,
    type: e.type,
    status: e.status,
    access_infos: [
      {
        listen_port: e.listen_port,
        access_ip: e.public_ip,
        intranet_ip: e.server_ip,
        public_ip: e.public_ip,
        server_ip: e.server_ip,
        access_port: e.access_port,
        type: 'cph_app_server',
        server_ipv6: '',
      },
    ],
    encode_server_ipv6: '',
  };
}
