import pino from 'pino';
import { expect, test } from 'vitest';
import { createAccessKey, createUser, grantProject, seedDefaultIdentity } from '../../src/auth/admin.js';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { systemClock } from '../../src/domain/time.js';
import { createProject } from '../../src/runtime/projects.js';
import { LOCK_AFTER_FAILURES, LOCK_MS } from '../../src/auth/lockout.js';
import { openDb } from '../../src/store/db.js';
import { getAccessKey, getDomainByName, getSigningKey, getUserByName, projectIdsOfUser, recordFailure } from '../../src/store/identity.js';
import { useFleetStore } from '../helpers/store.js';

const store = useFleetStore();

test('the signing key: the key, its user and all their projects in one read, the same prepared on SQLite as through Kysely', async () => {
  const { defaultAccount: account, defaultUser: user, defaultPassword: password, defaultAk: ak, defaultSk: sk } = DEFAULTS;
  const deps = { db: store.h.db, clock: systemClock, ids: newId };
  await seedDefaultIdentity({ ...deps, log: pino({ level: 'silent' }) }, { account, user, password, ak, sk });
  await createProject(deps, { account, name: 'second', servers: 0, phonesPerServer: 0 });
  await grantProject(deps, { account, user, project: 'second' });
  await createUser(deps, { account, name: 'nobody', password });
  const lone = await createAccessKey(deps, { account, user: 'nobody' });

  const direct = { db: store.h.db, sqlite: store.h.sqlite };
  const kysely = { db: store.h.db };
  for (const key of [ak, lone.ak]) {
    const viaKysely = await getSigningKey(kysely, key);
    const { projectIds, ...rest } = viaKysely!;
    expect(rest).toEqual(await getAccessKey(store.h.db, key));
    expect(projectIds.sort()).toEqual((await projectIdsOfUser(store.h.db, rest.user_id)).sort());
    const viaPrepared = await getSigningKey(direct, key);
    expect({ ...viaPrepared!, projectIds: viaPrepared!.projectIds.sort() }).toEqual({ ...viaKysely!, projectIds: projectIds.sort() });
  }
  expect((await getSigningKey(direct, ak))!.projectIds).toHaveLength(2);
  expect((await getSigningKey(direct, lone.ak))!.projectIds).toEqual([]);
  expect(await getSigningKey(direct, 'EXAMPLEAK0000000099')).toBeUndefined();
  expect(await getSigningKey(kysely, 'EXAMPLEAK0000000099')).toBeUndefined();
});

test('failures are counted in one statement: connections failing at once lock a key or a user once per five failures', async () => {
  const { defaultAccount: account, defaultUser: user, defaultPassword: password, defaultAk: ak, defaultSk: sk } = DEFAULTS;
  const deps = { db: store.h.db, clock: systemClock, ids: newId };
  await seedDefaultIdentity({ ...deps, log: pino({ level: 'silent' }) }, { account, user, password, ak, sk });
  const theUser = async () => (await getUserByName(store.h.db, (await getDomainByName(store.h.db, account))!.domain_id, user))!;
  const userId = (await theUser()).user_id;
  const other = openDb({ url: store.url });
  try {
    const now = Date.UTC(2026, 0, 15);
    for (const [table, id] of [['access_keys', ak], ['users', userId]] as const) {
      const fail = (i: number) => recordFailure((i % 2 ? other : store.h).db, table, id, now, LOCK_AFTER_FAILURES, LOCK_MS);
      const locks = await Promise.all(Array.from({ length: 2 * LOCK_AFTER_FAILURES }, (_, i) => fail(i)));
      expect(locks.filter((l) => l !== undefined), table).toEqual([now + LOCK_MS, now + LOCK_MS]);
    }
    expect(await getAccessKey(store.h.db, ak)).toMatchObject({ failures: 0, locked_until: now + LOCK_MS });
    expect(await theUser()).toMatchObject({ failures: 0, locked_until: now + LOCK_MS });
    expect(await recordFailure(store.h.db, 'users', 'no-such-user', now, LOCK_AFTER_FAILURES, LOCK_MS)).toBeUndefined();
  } finally {
    await other.close();
  }
});
