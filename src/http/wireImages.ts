import { formatUtc } from '../domain/time.js';
import type { ImageRow } from '../store/fleet.js';
import type { CustomImage } from '../store/images.js';
import type { ImageMemberTable } from '../store/schema.js';

/** The wire mapping of images (cph-api.md §4.4), beside wire.ts. */

/** PhoneImage: `is_public` 1 for the catalogue's images, 2 for private ones (own or shared). */
export function phoneImage(i: ImageRow) {
  return {
    image_name: i.image_name,
    os_type: i.os_type,
    is_public: i.project_id === null ? 1 : 2,
    os_name: i.os_name,
    image_label: i.image_label,
    image_id: i.image_id,
    is_support_encrypt: i.is_support_encrypt === 1,
  };
}

/** ListImagesView: `project_id` only on a private image, `src_project_id` (its owner) only on a shared one. */
export function customImage(i: CustomImage) {
  const owner = i.image_type === 'private' ? { project_id: i.project_id! } : { src_project_id: i.project_id! };
  return {
    domain_id: i.domain_id ?? '',
    image_name: i.image_name,
    update_time: formatUtc(i.update_time),
    create_time: formatUtc(i.create_time),
    image_size: i.image_size,
    image_id: i.image_id,
    image_version: i.image_version,
    image_type: i.image_type,
    status: i.status,
    ...owner,
  };
}

/** ListImageMembers item: times as int64 milliseconds, the member as `member_id`. */
export function imageMember(m: ImageMemberTable) {
  return { create_time: Number(m.create_time), update_time: Number(m.update_time), image_id: m.image_id, member_id: m.project_id };
}
