import { sql } from 'kysely';
import { readRows, type ReadStore } from './db.js';
import type { PhoneModelRow, ServerModelRow } from './catalogue.js';
import type { Page } from './fleet.js';

/** ListCloudPhoneModels: a page of the catalogue's phone models, by name, of one status or all. */
export async function listPhoneModels(store: ReadStore, status: number | undefined, page: Page): Promise<PhoneModelRow[]> {
  let q = store.db.selectFrom('phone_models').selectAll();
  if (status !== undefined) q = q.where('status', '=', status);
  return readRows(store, q.orderBy('phone_model_name').limit(sql.lit(page.limit)).offset(page.offset));
}

/** ListCloudPhoneServerModels: the catalogue's server models, by name, of one product type or all. */
export async function listServerModels(store: ReadStore, productType: number | undefined): Promise<ServerModelRow[]> {
  let q = store.db.selectFrom('server_models').selectAll();
  if (productType !== undefined) q = q.where('product_type', '=', productType);
  return readRows(store, q.orderBy('server_model_name'));
}
