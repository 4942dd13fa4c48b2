import { describe, expect, it } from 'vitest';
import { fixedRead } from '../../src/store/db.js';
import { PROJECT } from '../helpers/node.js';
import { useFleetStore } from '../helpers/store.js';

/**
 * fixedRead: a read built once and run with new values each call, on both stores, inside and
 * outside a transaction; a build that does not bind its values as given is built on every call.
 */
describe('fixedRead', () => {
  const s = useFleetStore();
  const phoneById = fixedRead((db, projectId: string, phoneId: string) => db.selectFrom('phones').select(['phone_id', 'phone_name']).where('project_id', '=', projectId).where('phone_id', '=', phoneId));

  it('answers each call with its own values, as a query built for them would', async () => {
    const store = { db: s.h.db, sqlite: s.h.sqlite };
    for (const p of s.fleet.phones) {
      expect(await phoneById(store, PROJECT, p.phone_id)).toEqual([{ phone_id: p.phone_id, phone_name: p.phone_name }]);
    }
    expect(await phoneById(store, 'another-project', s.fleet.phones[0]!.phone_id)).toEqual([]);
    // Inside a transaction it reads through Kysely, as its writes stand.
    await s.h.db.transaction().execute(async (tx) => {
      await tx.updateTable('phones').set({ phone_name: 'renamed' }).where('phone_id', '=', s.fleet.phones[0]!.phone_id).execute();
      expect(await phoneById({ db: tx, sqlite: s.h.sqlite }, PROJECT, s.fleet.phones[0]!.phone_id)).toEqual([{ phone_id: s.fleet.phones[0]!.phone_id, phone_name: 'renamed' }]);
    });
  });

  it('builds every call when the values are not bound as given', async () => {
    const store = { db: s.h.db, sqlite: s.h.sqlite };
    const byLowerName = fixedRead((db, name: string) => db.selectFrom('phones').select('phone_id').where('phone_name', '=', name.toLowerCase()));
    const [a, b] = s.fleet.phones;
    expect(await byLowerName(store, a!.phone_name.toUpperCase())).toEqual([{ phone_id: a!.phone_id }]);
    expect(await byLowerName(store, b!.phone_name.toUpperCase())).toEqual([{ phone_id: b!.phone_id }]);
  });
});
