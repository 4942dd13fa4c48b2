import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import type { DialectName } from './dialect.js';

export type Db = Kysely<Database>;

export interface DbHandle {
  db: Db;
  dialect: DialectName;
  /** The raw SQLite connection, for the few hot paths that use prepared statements directly. */
  sqlite?: SqliteDatabase.Database;
  close(): Promise<void>;
}

export interface DbOptions {
  /** A `postgres://` URL selects PostgreSQL; anything else is a SQLite file path. */
  url: string;
  /** SQLite only: FULL fsyncs every commit, NORMAL survives a process crash but not a power cut. */
  sqliteSync?: 'FULL' | 'NORMAL';
  poolSize?: number;
  /** Errors of idle PostgreSQL connections (a server restart, a killed backend); the pool replaces them. */
  onIdleError?: (err: Error) => void;
}

// bigint columns hold millisecond times and sequence numbers, all far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function openDb(options: DbOptions): DbHandle {
  if (isPostgresUrl(options.url)) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // Without a listener an idle connection's error would end the process.
    pool.on('error', (err) => options.onIdleError?.(err));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  mkdirSync(dirname(options.url), { recursive: true });
  const sqlite = new SqliteDatabase(options.url);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSync ?? 'FULL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
}
