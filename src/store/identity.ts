import { sql, type Insertable, type Selectable } from 'kysely';
import { directSqlite, preparedOnce, type Db, type ReadStore } from './db.js';
import type { ProjectView } from './projects.js';
import type { AccessKeyTable, DomainTable, TokenTable, UserTable } from './schema.js';

export type DomainRow = Selectable<DomainTable>;
export type UserRow = Selectable<UserTable>;
export type AccessKeyRow = Selectable<AccessKeyTable>;

// Accounts

export async function countDomains(db: Db): Promise<number> {
  const { n } = await db.selectFrom('domains').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(n);
}

export async function insertDomain(db: Db, row: DomainRow): Promise<void> {
  await db.insertInto('domains').values(row).execute();
}

export async function getDomainByName(db: Db, name: string): Promise<DomainRow | undefined> {
  return db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function getDomain(db: Db, domainId: string): Promise<DomainRow | undefined> {
  return db.selectFrom('domains').selectAll().where('domain_id', '=', domainId).executeTakeFirst();
}

export async function listDomains(db: Db): Promise<DomainRow[]> {
  return db.selectFrom('domains').selectAll().orderBy('created_at').orderBy('name').execute();
}

// Users

export async function insertUser(db: Db, row: Insertable<UserTable>): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

export async function getUser(db: Db, userId: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function getUserByName(db: Db, domainId: string, name: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('domain_id', '=', domainId).where('name', '=', name).executeTakeFirst();
}

/** Users of that name in any account (a login that names no account). */
export async function findUsersByName(db: Db, name: string): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().where('name', '=', name).limit(2).execute();
}

export async function listUsers(db: Db, domainId?: string): Promise<UserRow[]> {
  let q = db.selectFrom('users').selectAll();
  if (domainId !== undefined) q = q.where('domain_id', '=', domainId);
  return q.orderBy('created_at').orderBy('name').execute();
}

export async function setUserEnabled(db: Db, userId: string, enabled: boolean): Promise<void> {
  await db.updateTable('users').set({ enabled: enabled ? 1 : 0 }).where('user_id', '=', userId).execute();
}

// Project membership

export async function addMember(db: Db, userId: string, projectId: string, now: number): Promise<void> {
  await db
    .insertInto('project_members')
    .values({ user_id: userId, project_id: projectId, created_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'project_id']).doNothing())
    .execute();
}

export async function projectsOfUser(db: Db, userId: string): Promise<ProjectView[]> {
  return db
    .selectFrom('project_members as m')
    .innerJoin('projects as p', 'p.project_id', 'm.project_id')
    .select(['p.project_id', 'p.name', 'p.domain_id'])
    .where('m.user_id', '=', userId)
    .orderBy('p.created_at')
    .orderBy('p.name')
    .execute();
}

export async function projectIdsOfUser(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('project_members').select('project_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.project_id);
}

// Access keys

/** A key with what verification needs to know of its user. */
export interface KeyWithUser extends AccessKeyRow {
  user_name: string;
  user_enabled: number;
  domain_id: string;
}

export async function insertAccessKey(db: Db, row: Insertable<AccessKeyTable>): Promise<void> {
  await db.insertInto('access_keys').values(row).execute();
}

function keysWithUser(db: Db) {
  return db
    .selectFrom('access_keys as k')
    .innerJoin('users as u', 'u.user_id', 'k.user_id')
    .selectAll('k')
    .select(['u.name as user_name', 'u.enabled as user_enabled', 'u.domain_id']);
}

export async function getAccessKey(db: Db, accessKey: string): Promise<KeyWithUser | undefined> {
  return keysWithUser(db).where('k.access_key', '=', accessKey).executeTakeFirst();
}

/** A key as signature verification needs it: with its user and the ids of the user's projects. */
export interface SigningKey extends KeyWithUser {
  projectIds: string[];
}

/** One row per project of the key's user (one with a null project when there is none). */
const signingKeyRows = (db: Db, accessKey: string) =>
  keysWithUser(db).leftJoin('project_members as m', 'm.user_id', 'k.user_id').select('m.project_id as member_project_id').where('k.access_key', '=', accessKey);
/** Its SQLite text, compiled once. */
let signingKeySql: string | undefined;

/**
 * Every signed call reads this: one statement rather than a key lookup and a membership lookup,
 * prepared on SQLite (see directSqlite).
 */
export async function getSigningKey(store: ReadStore, accessKey: string): Promise<SigningKey | undefined> {
  const sqlite = directSqlite(store);
  const rows = (
    sqlite ? preparedOnce(sqlite, (signingKeySql ??= signingKeyRows(store.db, '').compile().sql)).all(accessKey) : await signingKeyRows(store.db, accessKey).execute()
  ) as (KeyWithUser & { member_project_id: string | null })[];
  const first = rows[0];
  if (!first) return undefined;
  const { member_project_id: _, ...key } = first;
  return { ...key, projectIds: rows.flatMap((r) => (r.member_project_id === null ? [] : [r.member_project_id])) };
}

export async function listAccessKeys(db: Db, only: { userId?: string; domainId?: string } = {}): Promise<KeyWithUser[]> {
  let q = keysWithUser(db);
  if (only.userId !== undefined) q = q.where('k.user_id', '=', only.userId);
  if (only.domainId !== undefined) q = q.where('u.domain_id', '=', only.domainId);
  return q.orderBy('k.created_at').orderBy('k.access_key').execute();
}

export async function setAccessKeyEnabled(db: Db, accessKey: string, enabled: boolean): Promise<boolean> {
  const r = await db.updateTable('access_keys').set({ enabled: enabled ? 1 : 0 }).where('access_key', '=', accessKey).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// Lock-out: access keys and users, each row counting its own consecutive failures

/** The tables whose rows lock after repeated failures, and the column naming a row. */
const LOCKABLE = { access_keys: 'access_key', users: 'user_id' } as const;
export type Lockable = keyof typeof LOCKABLE;

/**
 * Count one more consecutive failure, in one statement so that nodes sharing the store count
 * together. The `limit`-th failure locks the row until `now + lockMs` and starts a new count:
 * answers that time when this failure set the lock, undefined otherwise.
 */
export async function recordFailure(db: Db, table: Lockable, id: string, now: number, limit: number, lockMs: number): Promise<number | undefined> {
  const reached = sql<boolean>`failures + 1 >= ${limit}`;
  const { rows } = await sql<{ failures: number; locked_until: number | null }>`
    update ${sql.table(table)}
    set failures = case when ${reached} then 0 else failures + 1 end,
        locked_until = case when ${reached} then ${now + lockMs} else locked_until end
    where ${sql.ref(LOCKABLE[table])} = ${id}
    returning failures, locked_until`.execute(db);
  const row = rows[0];
  // Only a lock brings the count back to 0.
  return row && row.failures === 0 && row.locked_until !== null ? Number(row.locked_until) : undefined;
}

export async function clearFailures(db: Db, table: Lockable, id: string): Promise<void> {
  await sql`update ${sql.table(table)} set failures = 0 where ${sql.ref(LOCKABLE[table])} = ${id} and failures > 0`.execute(db);
}

// Tokens

export interface TokenView extends TokenTable {
  user_name: string;
  user_enabled: number;
  user_domain_id: string;
}

export async function insertToken(db: Db, row: TokenTable): Promise<void> {
  await db.insertInto('tokens').values(row).execute();
}

export async function getToken(db: Db, tokenHash: string): Promise<TokenView | undefined> {
  return db
    .selectFrom('tokens as t')
    .innerJoin('users as u', 'u.user_id', 't.user_id')
    .selectAll('t')
    .select(['u.name as user_name', 'u.enabled as user_enabled', 'u.domain_id as user_domain_id'])
    .where('t.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Forget tokens that expired before `before` (expired ones are kept a while to answer "expired", not "invalid"). */
export async function purgeTokens(db: Db, before: number): Promise<void> {
  await db.deleteFrom('tokens').where('expires_at', '<', before).execute();
}
