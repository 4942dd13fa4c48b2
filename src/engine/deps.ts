import type { Logger } from 'pino';
import type { IdGenerator } from '../domain/ids.js';
import type { Clock } from '../domain/time.js';
import type { Db } from '../store/db.js';
import type { DialectName } from '../store/dialect.js';

/** What every engine part needs; built once at start-up and passed down. */
export interface EngineDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
}
