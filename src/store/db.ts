import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, type Compilable, type Driver, type SqliteDialectConfig } from 'kysely';
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
  /** SQLite only: called with every statement as SQLite runs it, values in place (for diagnosis). */
  trace?: (sql: string) => void;
}

// bigint columns hold millisecond times and sequence numbers, all far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

/** The store as a hot read path sees it: Kysely, and on SQLite the raw connection. */
export type ReadStore = Pick<DbHandle, 'db' | 'sqlite'>;

/**
 * The reads clients repeat hardest (ListJobs, ShowJob, the access key behind every signed call)
 * run on SQLite as statements prepared once per connection, straight on it, skipping Kysely's
 * per-call query building and statement preparation; PostgreSQL keeps the Kysely path.
 *
 * While a Kysely transaction is open on the connection (a claim, a finish, a submit awaiting
 * between its statements), a direct read would see its uncommitted writes: this then answers
 * undefined, and the read takes the Kysely path and waits its turn.
 */
export function directSqlite(store: ReadStore): SqliteDatabase.Database | undefined {
  return store.sqlite && !store.sqlite.inTransaction ? store.sqlite : undefined;
}

/**
 * How a prepared statement answers a row: as an object by column name (the same row objects Kysely's
 * SQLite driver builds), as an array in column order, or as its first column's value alone. Arrays
 * and values are cheaper to build than objects.
 */
export type RowShape = 'objects' | 'arrays' | 'values';

/** Per connection, its statements by shape and text. */
const prepared = new WeakMap<SqliteDatabase.Database, Record<RowShape, Map<string, SqliteDatabase.Statement>>>();

/** `sql` prepared once on this connection, answering rows in `shape`. */
export function preparedOnce(sqlite: SqliteDatabase.Database, sql: string, shape: RowShape = 'objects'): SqliteDatabase.Statement {
  let statements = prepared.get(sqlite);
  if (!statements) prepared.set(sqlite, (statements = { objects: new Map(), arrays: new Map(), values: new Map() }));
  const byText = statements[shape];
  let stmt = byText.get(sql);
  if (!stmt) {
    stmt = sqlite.prepare(sql);
    if (shape === 'arrays') stmt.raw(true);
    else if (shape === 'values') stmt.pluck(true);
    byText.set(sql, stmt);
  }
  return stmt;
}

/** Per connection, by statement text: the function that makes a row, read as an array, an object by column name. */
const rowMakers = new WeakMap<SqliteDatabase.Database, Map<string, (values: unknown[]) => unknown>>();

/**
 * `sql` prepared once on this connection (preparedOnce), its rows read as arrays and made objects by
 * a function written for its columns: better-sqlite3 builds each row object property by property,
 * which for a page of 100 phones of 24 columns took 40% of the read; a literal of known keys is cheaper.
 */
function rowReader(sqlite: SqliteDatabase.Database, sql: string): { stmt: SqliteDatabase.Statement; row: (values: unknown[]) => unknown } {
  const stmt = preparedOnce(sqlite, sql, 'arrays');
  let bySql = rowMakers.get(sqlite);
  if (!bySql) rowMakers.set(sqlite, (bySql = new Map()));
  let row = bySql.get(sql);
  if (!row) {
    const columns = stmt.columns().map((c, i) => `${JSON.stringify(c.name)}: v[${i}]`);
    bySql.set(sql, (row = new Function('v', `return { ${columns.join(', ')} };`) as (values: unknown[]) => unknown));
  }
  return { stmt, row };
}

/**
 * The rows of a read Kysely built: on SQLite, outside a transaction, its statement (prepared once
 * per text) runs straight on the connection (see directSqlite); otherwise Kysely runs it. The text
 * is what Kysely compiles, so both ways run the same statement and answer the same row objects.
 */
export async function readRows<R>(store: ReadStore, query: Compilable<R>): Promise<R[]> {
  const compiled = query.compile();
  const sqlite = directSqlite(store);
  if (!sqlite) return (await store.db.executeQuery(compiled)).rows;
  const { stmt, row } = rowReader(sqlite, compiled.sql);
  return (stmt.all(compiled.parameters) as unknown[][]).map(row) as R[];
}

/**
 * A read whose text is the same whatever its values: `build` binds each of its `values` once, in
 * their order, and writes nothing into the text that depends on them. On SQLite it is built and
 * compiled once per store, and each call binds its values to the statement prepared for that text
 * (Kysely building the query was more than the row's read in ShowCloudPhoneDetail); elsewhere, and
 * while a transaction is open, it runs as readRows does. A `build` that turns out not to bind its
 * values as given (seen on the first call) is built on every call instead.
 */
export function fixedRead<A extends unknown[], R>(build: (db: Db, ...values: A) => Compilable<R>): (store: ReadStore, ...values: A) => Promise<R[]> {
  // Per store: the text, or null when the values are not bound as given.
  const texts = new WeakMap<Db, string | null>();
  return async (store, ...values) => {
    const sqlite = directSqlite(store);
    let text = sqlite ? texts.get(store.db) : null;
    if (text === undefined) {
      const compiled = build(store.db, ...values).compile();
      const asGiven = compiled.parameters.length === values.length && compiled.parameters.every((p, i) => p === values[i]);
      texts.set(store.db, (text = asGiven ? compiled.sql : null));
    }
    if (!sqlite || text === null) return readRows(store, build(store.db, ...values));
    const { stmt, row } = rowReader(sqlite, text);
    return (stmt.all(values) as unknown[][]).map(row) as R[];
  };
}

const SQLITE_MMAP_BYTES = 2 ** 30;

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
  const sqlite = new SqliteDatabase(options.url, options.trace ? { verbose: (sql) => options.trace!(String(sql)) } : {});
  // First: another process of the same node (`serve --api-processes`) may be writing right now.
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.sqliteSync ?? 'FULL'}`);
  sqlite.pragma('foreign_keys = ON');
  // Reads map the file's first GiB instead of copying each page in with a read() call: a ListJobs
  // on a store of a million jobs touches pages outside SQLite's small page cache, and mapping cut
  // the server's CPU per ListJobs by about a tenth in the benchmark. It takes address space only;
  // the kernel's page cache holds the data either way. The price: an I/O error on a mapped page
  // ends the process (SIGBUS) instead of failing the statement, so the data dir belongs on a
  // local disk, not on network storage.
  sqlite.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite, { database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
}

/** How long a statement or transaction waits for another process's write lock before it fails. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Transactions on SQLite begin IMMEDIATE: they take the write lock at BEGIN. A deferred BEGIN that
 * reads and then writes, as a claim does, fails at once with SQLITE_BUSY_SNAPSHOT when another
 * process of the node (`serve --api-processes`) commits in between: no waiting helps it then.
 *
 * While another process holds the lock, BEGIN is retried on timers rather than left to SQLite's
 * busy timeout, which sleeps inside the call with the event loop stopped: meanwhile this process
 * goes on answering the reads that need no lock (ListJobs, ShowJob and the key lookup read the
 * connection directly, outside Kysely's turn).
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    config: SqliteDialectConfig,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    // Prepared once: every transaction (each claim and finish of the worker) switches the timeout twice.
    const noWait = this.sqlite.prepare('pragma busy_timeout = 0');
    const wait = this.sqlite.prepare(`pragma busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    driver.beginTransaction = async (connection) => {
      const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
      for (let attempt = 0; ; attempt++) {
        noWait.get();
        try {
          await connection.executeQuery(CompiledQuery.raw('begin immediate'));
          return;
        } catch (err) {
          // SQLITE_BUSY, or an extended code of it (SQLITE_BUSY_RECOVERY while another process recovers the WAL).
          if (!String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw err;
        } finally {
          wait.get();
        }
        // Commits take a millisecond or two: look again at once a few times, then back off to 8 ms.
        await (attempt < 3 ? new Promise((r) => setImmediate(r)) : sleep(Math.min(8, 2 ** (attempt - 3))));
      }
    };
    return driver;
  }
}

/**
 * Kysely prepares every query it runs; compiling the same SQL again each time is a good part of a
 * query's cost. The same query shape always compiles to the same text, so statements are kept by
 * their SQL (up to `max`, least recently used dropped first). A statement still iterating a result
 * is busy and cannot be reused; a fresh one is prepared then.
 */
function withStatementCache(sqlite: SqliteDatabase.Database, max = 500): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt && !stmt.busy) {
        // Map order is insertion order: re-inserting marks it most recently used.
        cache.delete(sql);
        cache.set(sql, stmt);
        return stmt;
      }
      stmt = sqlite.prepare(sql);
      cache.set(sql, stmt);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
}
