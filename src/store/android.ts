import { sql, type Selectable } from 'kysely';
import type { Db } from './db.js';
import type { AndroidFileTable, AndroidPackageTable, AndroidSettingTable, SharedFileTable } from './schema.js';

/** What a simulated phone keeps between commands: user packages, pushed files, settings. */

export type PackageRow = Selectable<AndroidPackageTable>;
export type FileRow = Selectable<AndroidFileTable>;
export type SettingRow = Selectable<AndroidSettingTable>;

export async function listPackages(db: Db, phoneId: string): Promise<PackageRow[]> {
  return db.selectFrom('android_packages').selectAll().where('phone_id', '=', phoneId).orderBy('package_name').execute();
}

export async function getPackage(db: Db, phoneId: string, packageName: string): Promise<PackageRow | undefined> {
  return db.selectFrom('android_packages').selectAll().where('phone_id', '=', phoneId).where('package_name', '=', packageName).executeTakeFirst();
}

/** Install or update (same package name: the new version replaces the old). */
export async function putPackage(db: Db, row: PackageRow): Promise<void> {
  const { phone_id: _p, package_name: _n, ...rest } = row;
  await db
    .insertInto('android_packages')
    .values(row)
    .onConflict((oc) => oc.columns(['phone_id', 'package_name']).doUpdateSet(rest))
    .execute();
}

export async function deletePackage(db: Db, phoneId: string, packageName: string): Promise<boolean> {
  const r = await db.deleteFrom('android_packages').where('phone_id', '=', phoneId).where('package_name', '=', packageName).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function getFile(db: Db, phoneId: string, path: string): Promise<FileRow | undefined> {
  return db.selectFrom('android_files').selectAll().where('phone_id', '=', phoneId).where('path', '=', path).executeTakeFirst();
}

export async function listChildren(db: Db, phoneId: string, dir: string): Promise<FileRow[]> {
  return db.selectFrom('android_files').selectAll().where('phone_id', '=', phoneId).where('parent', '=', dir).orderBy('path').execute();
}

/** Write files and directories; an existing path is replaced, as unpacking a tar over it would. */
export async function putFiles(db: Db, rows: readonly FileRow[]): Promise<void> {
  await upsertFileRows(db, 'android_files', 'phone_id', rows);
}

/**
 * Insert or replace file rows of a phone (android_files) or of a server's shared storage
 * (shared_files): the two tables differ only in their owner column.
 */
export async function upsertFileRows(db: Db, table: 'android_files' | 'shared_files', owner: 'phone_id' | 'server_id', rows: readonly (FileRow | Selectable<SharedFileTable>)[]): Promise<void> {
  // 8 columns × 100 rows stays inside SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 100) {
    await db
      .insertInto(table)
      // The caller's rows are those of the table it names.
      .values(rows.slice(i, i + 100) as FileRow[])
      .onConflict((oc) =>
        oc.columns([owner as 'phone_id', 'path']).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          mode: eb.ref('excluded.mode'),
          size: eb.ref('excluded.size'),
          mtime: eb.ref('excluded.mtime'),
          content: eb.ref('excluded.content'),
        })),
      )
      .execute();
  }
}

export async function getSetting(db: Db, phoneId: string, namespace: string, name: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('android_settings')
    .select('value')
    .where('phone_id', '=', phoneId)
    .where('namespace', '=', namespace)
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.value;
}

export async function listSettings(db: Db, phoneId: string, namespace: string): Promise<SettingRow[]> {
  return db.selectFrom('android_settings').selectAll().where('phone_id', '=', phoneId).where('namespace', '=', namespace).orderBy('name').execute();
}

export async function putSetting(db: Db, row: SettingRow): Promise<void> {
  await db
    .insertInto('android_settings')
    .values(row)
    .onConflict((oc) => oc.columns(['phone_id', 'namespace', 'name']).doUpdateSet({ value: row.value }))
    .execute();
}

export async function deleteSetting(db: Db, phoneId: string, namespace: string, name: string): Promise<number> {
  const r = await db.deleteFrom('android_settings').where('phone_id', '=', phoneId).where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** A factory reset: user packages, settings and every file under the given roots are gone. */
export async function wipeUserState(db: Db, phoneId: string, roots: readonly string[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('android_packages').where('phone_id', '=', phoneId).execute();
    await trx.deleteFrom('android_settings').where('phone_id', '=', phoneId).execute();
    for (const root of roots) await deleteFileTree(trx, 'android_files', 'phone_id', phoneId, root);
  });
}

/**
 * Delete what is at `path` and under it (a file, or a directory and its tree, `rm -rf`) on a phone
 * (android_files) or in a server's shared storage (shared_files); answers how many entries went.
 */
export async function deleteFileTree(db: Db, table: 'android_files' | 'shared_files', owner: 'phone_id' | 'server_id', ownerId: string, path: string): Promise<number> {
  const under = path.replace(/[\\%_]/g, (c) => '\\' + c) + '/%';
  const r = await db
    // The two tables differ only in their owner column.
    .deleteFrom(table as 'android_files')
    .where(owner as 'phone_id', '=', ownerId)
    .where((eb) => eb.or([eb('path', '=', path), sql<boolean>`path like ${under} escape '\\'`]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Every file and directory written on a phone, by path (what an export chooses from). */
export async function listFiles(db: Db, phoneId: string): Promise<FileRow[]> {
  return db.selectFrom('android_files').selectAll().where('phone_id', '=', phoneId).orderBy('path').execute();
}
