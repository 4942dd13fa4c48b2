import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneIds, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

describe('phones', () => {
  let t: TestNode;
  let phones: string[];

  beforeAll(async () => {
    t = await startTestNode({ servers: 3, phonesPerServer: 5 });
    phones = await phoneIds(t);
  });
  afterAll(() => t.close());

  describe('ListCloudPhones', () => {
    it('lists phones newest first with count and every Phone field', async () => {
      const r = await t.get('/phones');
      expect(r.status).toBe(200);
      expect(r.body.count).toBe(15);
      expect(r.body.phones).toHaveLength(15);
      expect(r.headers['x-request-id']).toBe(r.body.request_id);
      const times = r.body.phones.map((p: any) => p.create_time);
      expect([...times].sort().reverse()).toEqual(times);
      expect(Object.keys(r.body.phones[0]).sort()).toEqual(
        [
          'availability_zone', 'create_time', 'has_encrypt', 'image_id', 'image_version', 'imei', 'metadata', 'phone_id', 'phone_model_name',
          'phone_name', 'server_id', 'status', 'traffic_type', 'type', 'update_time', 'vnc_enable', 'volume_mode',
        ].sort(),
      );
      expect(r.body.phones[0]).toMatchObject({ status: 2, type: 0, vnc_enable: 'false', has_encrypt: false });
    });

    it('pages with offset/limit (1..200) and keeps count the total', async () => {
      const all = (await t.get('/phones')).body.phones.map((p: any) => p.phone_id);
      const page = await t.get('/phones?offset=4&limit=3');
      expect(page.body.count).toBe(15);
      expect(page.body.phones.map((p: any) => p.phone_id)).toEqual(all.slice(4, 7));
      expect((await t.get('/phones?limit=200')).status).toBe(200);
      for (const q of ['limit=201', 'limit=0', 'offset=-1', 'offset=x']) {
        const r = await t.get(`/phones?${q}`);
        expect(r.status, q).toBe(400);
        expect(r.body.error_code, q).toBe('CPS.0002');
      }
    });

    it('filters by name (substring, case-insensitive), server, status and type', async () => {
      const byName = await t.get('/phones?phone_name=PHONE-0002');
      expect(byName.body.count).toBe(5);
      expect(byName.body.phones.every((p: any) => p.phone_name.startsWith('phone-0002'))).toBe(true);
      // '_' is a literal character in a name filter, not a wildcard.
      expect((await t.get('/phones?phone_name=phone_0002')).body.count).toBe(0);
      const serverId = byName.body.phones[0].server_id;
      expect((await t.get(`/phones?server_id=${serverId}`)).body.count).toBe(5);
      expect((await t.get('/phones?status=2')).body.count).toBe(15);
      expect((await t.get('/phones?status=8')).body.count).toBe(0);
      expect((await t.get('/phones?type=0')).body.count).toBe(15);
      const bad = await t.get('/phones?status=5');
      expect(bad.status).toBe(400);
      expect(bad.body.error_code).toBe('CPS.0010');
      expect((await t.get('/phones?status=x')).body.error_code).toBe('CPS.0010');
    });
  });

  describe('ShowCloudPhoneDetail and UpdatePhoneName', () => {
    it('shows one phone with access infos, property and data volume', async () => {
      const r = await t.get(`/phones/${phones[0]}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ phone_id: phones[0], status: 2, property: '{}', phone_data_volume: { volume_type: 'SSD', volume_size: 32 } });
      expect(r.body.access_infos[0]).toMatchObject({ type: 'adb' });
      expect(r.body.request_id).toBe(r.headers['x-request-id']);
    });

    it('answers unknown and malformed phone ids', async () => {
      const unknown = await t.get(`/phones/${'e'.repeat(32)}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error_code: 'CPS.0005', error_msg: 'Phone is not found.' });
      const long = await t.get(`/phones/${'e'.repeat(33)}`);
      expect(long.status).toBe(400);
      expect(long.body.error_code).toBe('CPS.0004');
      expect((await t.get(`/phones/${'e'.repeat(1000)}`)).body.error_code).toBe('CPS.0004');
    });

    it('renames a phone, and rejects bad names', async () => {
      const r = await t.put(`/phones/${phones[1]}`, { phone_name: 'renamed_云-1' });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body)).toEqual(['request_id']);
      expect((await t.get(`/phones/${phones[1]}`)).body.phone_name).toBe('renamed_云-1');
      for (const body of [{ phone_name: 'has space' }, { phone_name: 'x'.repeat(61) }, { phone_name: '' }, { phone_name: 5 }, {}]) {
        const bad = await t.put(`/phones/${phones[1]}`, body);
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.error_code, JSON.stringify(body)).toBe('CPS.0025');
      }
      expect((await t.put(`/phones/${'e'.repeat(32)}`, { phone_name: 'ok' })).status).toBe(404);
    });
  });

  describe('batch calls', () => {
    it('answers every target, with per-item codes for ones that cannot run', async () => {
      const r = await t.post('/phones/batch-stop', { phone_ids: [phones[2], 'e'.repeat(32), 'bad id', 'x'.repeat(40)] });
      expect(r.status).toBe(200);
      expect(r.headers['x-request-id']).toBe(r.body.request_id);
      const [ok, unknown, bad, long] = r.body.jobs;
      expect(ok).toEqual({ phone_id: phones[2], job_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(unknown).toMatchObject({ phone_id: 'e'.repeat(32), error_code: 'CPS.0005', error_msg: 'Phone is not found.' });
      expect(bad).toMatchObject({ error_code: 'CPS.0004', error_msg: 'Parameter: phone_id is invalid.' });
      expect(long).toMatchObject({ error_code: 'CPS.0004' });
      const jobs = await waitForRequest(t, r.body.request_id);
      expect(jobs.map((j: any) => j.status)).toEqual([2, -1, -1, -1]);
      // restart starts the stopped phone again
      const restart = await t.post('/phones/batch-restart', { phones: [{ phone_id: phones[2] }] });
      await waitForRequest(t, restart.body.request_id);
      expect((await t.get(`/phones/${phones[2]}`)).body.status).toBe(2);
    });

    it('rejects empty and malformed batch bodies', async () => {
      for (const [path, body] of [
        ['/phones/batch-stop', { phone_ids: [] }],
        ['/phones/batch-stop', {}],
        ['/phones/batch-restart', { phones: [] }],
        ['/phones/batch-reset', {}],
      ] as const) {
        const r = await t.post(path, body);
        expect(r.status, path).toBe(400);
        expect(r.body.error_code, path).toBe('CPS.0009');
      }
      const types = await t.post('/phones/batch-stop', { phone_ids: 'abc' });
      expect(types.status).toBe(400);
      expect(types.body.error_code).toBe('CPS.0009');
      const items = await t.post('/phones/batch-restart', { phones: [{ phone_id: 7 }] });
      expect(items.status).toBe(400);
      expect(items.body.error_code).toBe('CPS.0004');
      const image = await t.post('/phones/batch-reset', { image_id: 'f'.repeat(32), phones: [{ phone_id: phones[0] }] });
      expect(image.status).toBe(400);
      expect(image.body.error_code).toBe('CPS.0030');
    });

    it('applies properties on restart (merged) and reset (replaced), and the image on reset', async () => {
      const p = phones[3]!;
      const r1 = await t.post('/phones/batch-restart', { phones: [{ phone_id: p, property: '{"sys.prop.writephonenum":"13666666666"}' }] });
      await waitForRequest(t, r1.body.request_id);
      const r2 = await t.post('/phones/batch-restart', { phones: [{ phone_id: p, property: '{"sys.prop.writeimsi":"460021624617113"}' }] });
      await waitForRequest(t, r2.body.request_id);
      expect(JSON.parse((await t.get(`/phones/${p}`)).body.property)).toEqual({ 'sys.prop.writephonenum': '13666666666', 'sys.prop.writeimsi': '460021624617113' });
      const r3 = await t.post('/phones/batch-reset', { image_id: '5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12', phones: [{ phone_id: p, property: '{"a":"1"}' }] });
      await waitForRequest(t, r3.body.request_id);
      const after = (await t.get(`/phones/${p}`)).body;
      expect(JSON.parse(after.property)).toEqual({ a: '1' });
      expect(after.image_id).toBe('5b4a1a3c0f2a4d8e9c7b6a5d4e3f2a12');
      expect(after.image_version).toBe('CPH_Android12_24.2.0');
    });

    it('fails a malformed property per item', async () => {
      const r = await t.post('/phones/batch-restart', { phones: [{ phone_id: phones[4], property: 'not json' }, { phone_id: phones[5] }] });
      expect(r.body.jobs[0]).toMatchObject({ error_code: 'CPS.0034', error_msg: expect.stringContaining('property') });
      expect(r.body.jobs[1].error_code).toBeUndefined();
      const jobs = await waitForRequest(t, r.body.request_id);
      expect(jobs.map((j: any) => j.status)).toEqual([-1, 2]);
    });
  });
});

describe('phone status machine (simulated delays)', () => {
  let t: TestNode;
  let phones: string[];

  beforeAll(async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 4, simDelayMs: 60 });
    phones = await phoneIds(t);
  });
  afterAll(() => t.close());

  const statusOf = async (id: string) => (await t.get(`/phones/${id}`)).body.status;
  /** Submit a batch on one phone and record the distinct statuses it goes through until the job ends. */
  async function trace(id: string, path: string, body: unknown): Promise<{ seen: number[]; jobs: any[] }> {
    const seen = [await statusOf(id)];
    const r = await t.post(path, body);
    const jobs = await waitFor(async () => {
      const s = await statusOf(id);
      if (s !== seen[seen.length - 1]) seen.push(s);
      const list = (await t.get(`/jobs?request_id=${r.body.request_id}`)).body.jobs;
      return list.every((j: any) => j.status !== 1) ? list : undefined;
    }, 10_000, 5);
    const last = await statusOf(id);
    if (last !== seen[seen.length - 1]) seen.push(last);
    return { seen, jobs };
  }

  it('restart goes 2 → 4 → 2', async () => {
    const { seen } = await trace(phones[0]!, '/phones/batch-restart', { phones: [{ phone_id: phones[0] }] });
    expect(seen).toEqual([2, 4, 2]);
  });

  it('reset goes 2 → 3 → 2, stop goes 2 → 7 → 8', async () => {
    expect((await trace(phones[1]!, '/phones/batch-reset', { phones: [{ phone_id: phones[1] }] })).seen).toEqual([2, 3, 2]);
    expect((await trace(phones[1]!, '/phones/batch-stop', { phone_ids: [phones[1]] })).seen).toEqual([2, 7, 8]);
  });

  it('stopping a stopped phone fails with a clear error; restarting it starts it', async () => {
    const again = await trace(phones[1]!, '/phones/batch-stop', { phone_ids: [phones[1]] });
    expect(again.seen).toEqual([8]);
    expect(again.jobs[0]).toMatchObject({ status: -1, error_code: 'CPS.0022' });
    expect(again.jobs[0].error_msg).toMatch(/stopped/);
    expect((await trace(phones[1]!, '/phones/batch-restart', { phones: [{ phone_id: phones[1] }] })).seen).toEqual([8, 4, 2]);
  });

  it('runs jobs of one phone one at a time, in submission order', async () => {
    const p = phones[2]!;
    const a = await t.post('/phones/batch-stop', { phone_ids: [p] });
    const b = await t.post('/phones/batch-restart', { phones: [{ phone_id: p }] });
    const c = await t.post('/phones/batch-stop', { phone_ids: [p] });
    const [ja] = await waitForRequest(t, a.body.request_id);
    const [jb] = await waitForRequest(t, b.body.request_id);
    const [jc] = await waitForRequest(t, c.body.request_id);
    // In order stop → restart → stop every job succeeds; any other order would fail one.
    expect([ja.status, jb.status, jc.status]).toEqual([2, 2, 2]);
    expect(await statusOf(p)).toBe(8);
    const show = await Promise.all([ja, jb, jc].map((j) => t.get(`/jobs/${j.job_id}`)));
    const ends = show.map((s) => s.body.end_time);
    expect([...ends].sort()).toEqual(ends);
  });
});
