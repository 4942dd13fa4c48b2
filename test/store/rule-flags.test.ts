import { sql } from 'kysely';
import { expect, test } from 'vitest';
import { newId } from '../../src/domain/ids.js';
import type { RuleSpec } from '../../src/engine/rules.js';
import { pickRunnable } from '../../src/engine/schedule.js';
import type { Db } from '../../src/store/db.js';
import { claimJobs, insertRequest } from '../../src/store/jobs.js';
import { insertRule } from '../../src/store/rules.js';
import { PROJECT } from '../helpers/node.js';
import { useFleetStore } from '../helpers/store.js';

/**
 * Whether a project has rules is read inside the request's INSERT and the claim's UPDATE
 * (docs/decisions/0032): what those statements answer, and on PostgreSQL that a submission to a
 * project with refusing rules holds the event writers' turn before it touches them.
 */

const store = useFleetStore();
const OTHER = 'f'.repeat(32);

const rule = (projectId: string, spec: RuleSpec) => insertRule(store.h.db, projectId, newId(), spec, Date.now());
const refusing = (times?: number): RuleSpec => ({ match: { operation: 'phone.restart' }, outcome: { refuse: { error_code: 'CPS.0022' } }, times });
const failing: RuleSpec = { match: { operation: 'phone.restart' }, outcome: { fail: { error_code: 'CPS.0023' } } };

const advisoryLocks = async (db: Db) =>
  Number((await sql<{ n: string }>`select count(*) as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`.execute(db)).rows[0]!.n);

/** Write an empty request of `projectId`: whether the refusal step was called, and (PostgreSQL) the advisory locks held after the INSERT. */
async function submitEmpty(projectId: string): Promise<{ refused: boolean; locks?: number }> {
  let refused = false;
  let locks: number | undefined;
  await store.h.db.transaction().execute(async (trx) => {
    await insertRequest(trx, { requestId: newId(), projectId, operation: 'phone.restart', now: Date.now(), jobs: [] }, async () => {
      refused = true;
    });
    if (store.h.dialect === 'postgres') locks = await advisoryLocks(trx);
  });
  return { refused, locks };
}

test("the request's INSERT calls the refusal step only for a project with usable refusing rules", async () => {
  await rule(PROJECT, failing);
  await rule(OTHER, refusing(0));
  const none = store.h.dialect === 'postgres' ? { refused: false, locks: 0 } : { refused: false };
  // A run-time rule, or a spent refusing rule, is not a reason to look.
  expect(await submitEmpty(PROJECT)).toEqual(none);
  expect(await submitEmpty(OTHER)).toEqual(none);
  await rule(PROJECT, refusing());
  // On PostgreSQL the event writers' turn is held from that INSERT on (and only then).
  expect(await submitEmpty(PROJECT)).toEqual(store.h.dialect === 'postgres' ? { refused: true, locks: 1 } : { refused: true });
  expect(await submitEmpty(OTHER)).toEqual(none);
});

test("the claim's UPDATE says which claimed jobs' projects have usable run-time rules", async () => {
  const [a, b] = store.fleet.phones;
  for (const [projectId, phone] of [[PROJECT, a!], [OTHER, b!]] as const) {
    await insertRequest(store.h.db, { requestId: newId(), projectId, operation: 'phone.restart', now: Date.now(), jobs: [{ jobId: newId(), phoneId: phone.phone_id, serverId: phone.server_id, params: {} }] });
  }
  await rule(PROJECT, failing);
  await rule(OTHER, refusing());
  const claimed = await store.h.db
    .transaction()
    .execute((trx) => claimJobs(trx, { owner: 'w1', max: 10, now: Date.now, leaseMs: 60_000, dialect: store.h.dialect }, (active, n) => pickRunnable(active, n)));
  expect(claimed.map((j) => [j.project_id, j.has_rules])).toEqual([
    [PROJECT, 1],
    [OTHER, 0],
  ]);
});
