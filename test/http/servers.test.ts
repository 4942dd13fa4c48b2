import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servers, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

describe('servers', () => {
  let t: TestNode;
  let list: any[];

  beforeAll(async () => {
    t = await startTestNode({ servers: 4, phonesPerServer: 2 });
    list = await servers(t);
  });
  afterAll(() => t.close());

  it('lists servers newest first with count and every Server field', async () => {
    const r = await t.get('/servers');
    expect(r.status).toBe(200);
    expect(r.body.count).toBe(4);
    expect(r.body.servers.map((s: any) => s.server_name)).toEqual(['server-0004', 'server-0003', 'server-0002', 'server-0001']);
    expect(r.body.servers[0]).toMatchObject({ status: 5, network_version: 'v2', metadata: { charging_mode: 1 } });
    for (const field of ['server_id', 'server_model_name', 'phone_model_name', 'keypair_name', 'vpc_id', 'subnet_id', 'addresses', 'create_time', 'update_time', 'availability_zone']) {
      expect(r.body.servers[0], field).toHaveProperty(field);
    }
  });

  it('filters and pages (limit 1..100)', async () => {
    expect((await t.get('/servers?server_name=0003')).body.servers.map((s: any) => s.server_name)).toEqual(['server-0003']);
    expect((await t.get(`/servers?server_id=${list[1].server_id}`)).body.count).toBe(1);
    expect((await t.get('/servers?network_version=v1')).body.count).toBe(0);
    expect((await t.get('/servers?status=5')).body.count).toBe(4);
    expect((await t.get('/servers?status=7')).body.error_code).toBe('CPS.0010');
    expect((await t.get('/servers?network_version=v3')).status).toBe(400);
    const created = Date.parse(list[1].create_time);
    expect((await t.get(`/servers?create_since=${created}`)).body.count).toBe(2);
    // Wire times are whole seconds: the server was created within the second after `created`.
    expect((await t.get(`/servers?create_until=${created + 999}`)).body.count).toBe(3);
    const page = await t.get('/servers?offset=1&limit=2');
    expect(page.body.servers.map((s: any) => s.server_id)).toEqual(list.slice(1, 3).map((s) => s.server_id));
    expect(page.body.count).toBe(4);
    for (const q of ['limit=101', 'limit=0', 'offset=-3']) expect((await t.get(`/servers?${q}`)).body.error_code, q).toBe('CPS.0002');
  });

  it('shows a server, and answers unknown or malformed ids', async () => {
    const r = await t.get(`/servers/${list[0].server_id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ server_id: list[0].server_id, security_groups: [], share_volume_info: { size: 0, version: 0 } });
    // A seeded server has a dedicated bandwidth and a data volume per phone.
    expect(r.body.band_widths).toEqual([expect.objectContaining({ band_width_size: 100, band_width_share_type: 0, band_width_charge_mode: 0 })]);
    expect(r.body.volumes).toHaveLength(2);
    expect(r.body.volumes[0]).toMatchObject({ volume_size: 32, volume_type: 'SSD' });
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
    const unknown = await t.get(`/servers/${'a'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_code).toBe('CPS.0016');
    const long = await t.get(`/servers/${'a'.repeat(33)}`);
    expect(long.status).toBe(400);
    expect(long.body.error_code).toBe('CPS.0016');
  });

  it('renames a server', async () => {
    expect((await t.put(`/servers/${list[0].server_id}`, { server_name: 'edge-01' })).status).toBe(200);
    expect((await t.get(`/servers/${list[0].server_id}`)).body.server_name).toBe('edge-01');
    const bad = await t.put(`/servers/${list[0].server_id}`, { server_name: 'no spaces allowed' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_msg).toBe('Parameter: server_name is invalid.');
    expect((await t.put(`/servers/${'a'.repeat(32)}`, { server_name: 'x' })).status).toBe(404);
  });

  it('restarts servers, with per-item CPS.0097 for unknown ones, 1..100 ids', async () => {
    const r = await t.post('/servers/batch-restart', { server_ids: [list[2].server_id, 'a'.repeat(32)] });
    expect(r.status).toBe(200);
    expect(r.body.jobs[0]).toEqual({ server_id: list[2].server_id, job_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(r.body.jobs[1]).toMatchObject({ server_id: 'a'.repeat(32), error_code: 'CPS.0097', error_msg: 'Parameter: server_id is invalid.' });
    const jobs = await waitForRequest(t, r.body.request_id);
    expect(jobs.map((j: any) => [j.server_id, j.status])).toEqual([
      [list[2].server_id, 2],
      ['a'.repeat(32), -1],
    ]);
    expect(jobs[0].phone_id).toBeUndefined();
    expect(jobs[0].node_id).toBe(list[2].server_id);
    const show = await t.get(`/jobs/${jobs[0].job_id}`);
    expect(show.body).toMatchObject({ server_id: list[2].server_id, phone_id: null });
    expect((await t.post('/servers/batch-restart', { server_ids: [] })).status).toBe(400);
    const tooMany = await t.post('/servers/batch-restart', { server_ids: Array.from({ length: 101 }, () => list[0].server_id) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error_msg).toBe('Parameter: server_ids is invalid.');
  });
});

describe('server restart with simulated delays', () => {
  let t: TestNode;
  afterAll(() => t.close());

  it('goes 5 → 13 → 5 and restarts its phones 4 → 2, after the phone jobs queued before it', async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 3, simDelayMs: 40, simJournal: true });
    const [server] = await servers(t);
    const phones = (await t.get(`/phones?server_id=${server.server_id}`)).body.phones.map((p: any) => p.phone_id);
    const stop = await t.post('/phones/batch-stop', { phone_ids: [phones[0]] });
    const restart = await t.post('/servers/batch-restart', { server_ids: [server.server_id] });
    const after = await t.post('/phones/batch-stop', { phone_ids: [phones[1]] });
    const seenServer = new Set<number>();
    const seenPhone = new Set<number>();
    await waitFor(async () => {
      seenServer.add((await t.get(`/servers/${server.server_id}`)).body.status);
      seenPhone.add((await t.get(`/phones/${phones[2]}`)).body.status);
      const jobs = (await t.get(`/jobs?request_ids=${stop.body.request_id},${restart.body.request_id},${after.body.request_id}`)).body.jobs;
      return jobs.every((j: any) => j.status !== 1) ? jobs : undefined;
    }, 10_000, 5);
    expect(seenServer.has(13)).toBe(true);
    expect(seenPhone.has(4)).toBe(true);
    const ends = await Promise.all(
      [stop, restart, after].map(async (r) => (await t.get(`/jobs/${r.body.jobs[0].job_id}`)).body),
    );
    expect(ends.map((j) => j.status)).toEqual([2, 2, 2]);
    // The server job waited for the stop before it; the later stop waited for the server job (the
    // journal's run times are in milliseconds, the wire's in whole seconds).
    const runs = await t.node.handle.db.selectFrom('sim_runs').select(['job_id', 'started_at', 'ended_at']).orderBy('run_id').execute();
    const run = (r: any) => runs.find((x) => x.job_id === r.body.jobs[0].job_id)!;
    expect(runs).toHaveLength(3);
    expect(run(restart).started_at).toBeGreaterThanOrEqual(run(stop).ended_at!);
    expect(run(after).started_at).toBeGreaterThanOrEqual(run(restart).ended_at!);
    expect((await t.get(`/servers/${server.server_id}`)).body.status).toBe(5);
    // The server restart brought the stopped phone back; the later stop stopped phone 1.
    expect((await t.get(`/phones/${phones[0]}`)).body.status).toBe(2);
    expect((await t.get(`/phones/${phones[1]}`)).body.status).toBe(8);
    expect((await t.get(`/phones/${phones[2]}`)).body.status).toBe(2);
  });
});
