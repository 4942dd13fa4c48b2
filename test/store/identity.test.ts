import pino from 'pino';
import { expect, test } from 'vitest';
import { seedDefaultIdentity } from '../../src/auth/admin.js';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { systemClock } from '../../src/domain/time.js';
import { getAccessKey, projectIdsOfUser } from '../../src/store/identity.js';
import { useFleetStore } from '../helpers/store.js';

const store = useFleetStore();

test('the key lookups prepared on SQLite answer exactly what the Kysely queries answer', async () => {
  const { defaultAccount: account, defaultUser: user, defaultPassword: password, defaultAk: ak, defaultSk: sk } = DEFAULTS;
  await seedDefaultIdentity({ db: store.h.db, clock: systemClock, ids: newId, log: pino({ level: 'silent' }) }, { account, user, password, ak, sk });
  const direct = { db: store.h.db, sqlite: store.h.sqlite };
  const kysely = { db: store.h.db };
  const key = await getAccessKey(kysely, ak);
  expect(key?.secret_key).toBe(sk);
  expect(await getAccessKey(direct, ak)).toEqual(key);
  expect(await getAccessKey(direct, 'EXAMPLEAK0000000099')).toBeUndefined();
  const projects = await projectIdsOfUser(kysely, key!.user_id);
  expect(projects.length).toBeGreaterThan(0);
  expect(await projectIdsOfUser(direct, key!.user_id)).toEqual(projects);
  expect(await projectIdsOfUser(direct, newId())).toEqual([]);
});
