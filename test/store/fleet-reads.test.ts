import { describe, expect, it } from 'vitest';
import { getPhoneView, getServer, listPhones, listServers } from '../../src/store/fleet.js';
import { PROJECT } from '../helpers/node.js';
import { useFleetStore } from '../helpers/store.js';

describe("the fleet's read routes' reads", () => {
  const store = useFleetStore();

  it('answer the same rows straight on the SQLite connection as through Kysely, each phone with its image and server', async () => {
    const ways = [{ db: store.h.db, sqlite: store.h.sqlite }, { db: store.h.db }];
    const [direct, kysely] = await Promise.all(
      ways.map(async (s) => ({
        phones: await listPhones(s, PROJECT, {}, { offset: 1, limit: 4 }),
        filtered: await listPhones(s, PROJECT, { serverId: store.fleet.servers[0]!.server_id }, { offset: 0, limit: 100 }),
        phone: await getPhoneView(s, PROJECT, store.fleet.phones[2]!.phone_id),
        servers: await listServers(s, PROJECT, {}, { offset: 0, limit: 1 }),
        server: await getServer(s, PROJECT, store.fleet.servers[1]!.server_id),
      })),
    );
    expect(direct).toEqual(kysely);
    expect([direct!.phones.count, direct!.phones.rows.length, direct!.filtered.count, direct!.servers.count, direct!.servers.rows.length]).toEqual([6, 4, 3, 2, 1]);
    const phone = store.fleet.phones[2]!;
    const server = store.fleet.servers.find((s) => s.server_id === phone.server_id)!;
    expect(direct!.phone).toEqual({ ...phone, image_version: expect.any(String), order_id: server.order_id, product_id: server.product_id, server_ip: server.server_ip, public_ip: server.public_ip });
    expect(direct!.server).toEqual(store.fleet.servers[1]);
  });
});
