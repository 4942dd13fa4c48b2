import { formatUtc } from '../domain/time.js';
import type { PhoneModelRow, ServerModelRow } from '../store/catalogue.js';
import type { BandwidthRow, VolumeRow } from '../store/serverOrders.js';

/** Wire objects of the server lifecycle and the catalogue (cph-api.md §4.2, §4.3). */

export function bandwidth(b: BandwidthRow) {
  return {
    band_width_name: b.band_width_name,
    band_width_id: b.band_width_id,
    band_width_size: b.band_width_size,
    band_width_charge_mode: b.band_width_charge_mode,
    band_width_share_type: b.band_width_share_type,
    create_time: formatUtc(b.create_time),
    update_time: formatUtc(b.update_time),
  };
}

export function volume(v: VolumeRow) {
  return {
    volume_name: v.volume_name,
    volume_id: v.volume_id,
    volume_size: v.volume_size,
    volume_type: v.volume_type,
    create_time: formatUtc(v.create_time),
    update_time: formatUtc(v.update_time),
  };
}

/** PhoneModel: extend_spec stays the JSON string CPH sends. */
export function phoneModel(m: PhoneModelRow) {
  return {
    server_model_name: m.server_model_name,
    phone_model_name: m.phone_model_name,
    status: m.status,
    cpu: m.cpu,
    memory: m.memory,
    disk: m.disk,
    resolution: m.resolution,
    extend_spec: m.extend_spec,
    spec_code: m.spec_code,
    phone_capacity: m.phone_capacity,
    image_label: m.image_label,
    product_type: m.product_type,
    phone_model_version: m.phone_model_version,
    dpi: m.dpi,
    fps: m.fps,
    volume_mode: m.volume_mode,
    render_fps: m.render_fps,
    stream_fps: m.stream_fps,
  };
}

/** ServerModel: here extend_spec is an object. */
export function serverModel(m: ServerModelRow) {
  let extendSpec: unknown = {};
  try {
    extendSpec = JSON.parse(m.extend_spec);
  } catch {
    // An admin's malformed spec shows as empty rather than failing the whole list.
  }
  return {
    server_model_name: m.server_model_name,
    server_type: m.server_type,
    cpu: m.cpu,
    memory: m.memory,
    extend_spec: extendSpec,
    disk_max_num: m.disk_max_num,
    product_type: m.product_type,
    free_size: m.free_size,
  };
}
