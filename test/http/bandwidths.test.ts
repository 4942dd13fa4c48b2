import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { PROJECT, startTestNode, type TestNode } from '../helpers/node.js';

describe('bandwidths: ShowBandwidthDetail, UpdateBandwidth', () => {
  let t: TestNode;
  const base = `/v1/${PROJECT}/cloud-phone`;
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, method, `${base}${path}`, { body });

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 3, phonesPerServer: 1 });
  });
  afterAll(() => t.close());

  it("lists the project's bandwidths, one per seeded server, and pages them", async () => {
    const r = await call('GET', '/bandwidths');
    expect(r.status, r.text).toBe(200);
    expect(r.body.band_widths).toHaveLength(3);
    expect(r.body.band_widths[0]).toEqual({
      band_width_name: 'bandwidth-server-0001',
      band_width_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      band_width_size: 100,
      band_width_charge_mode: 0,
      band_width_share_type: 0,
      create_time: expect.stringMatching(/Z$/),
      update_time: expect.stringMatching(/Z$/),
    });
    const page = (await call('GET', '/bandwidths?offset=1&limit=1')).body.band_widths;
    expect(page.map((b: any) => b.band_width_id)).toEqual([r.body.band_widths[1].band_width_id]);
    for (const q of ['limit=0', 'limit=101', 'offset=-1']) expect((await call('GET', `/bandwidths?${q}`)).body.error_code, q).toBe('CPS.0002');
  });

  it('resizes in steps of 1 up to 300, 50 up to 1000, 500 up to 2000', async () => {
    const id = (await call('GET', '/bandwidths')).body.band_widths[0].band_width_id;
    for (const size of [1, 299, 300, 350, 1000, 1500, 2000]) {
      const r = await call('PUT', `/bandwidths/${id}`, { band_width_size: size });
      expect(r.status, `${size}: ${r.text}`).toBe(200);
      expect(r.body.request_id).toBe(r.headers['x-request-id']);
      const shown = (await call('GET', '/bandwidths')).body.band_widths.find((b: any) => b.band_width_id === id);
      expect(shown.band_width_size).toBe(size);
    }
    for (const size of [0, -5, 301, 975, 1250, 2500, 1.5]) {
      const r = await call('PUT', `/bandwidths/${id}`, { band_width_size: size });
      expect(r.status, `${size}: ${r.text}`).toBe(400);
      expect(r.body.error_code).toBe('CPS.0034');
      expect(r.body.error_msg).toMatch(/^Parameter: band_width_size is invalid\./);
    }
    expect((await call('PUT', `/bandwidths/${id}`, {})).status).toBe(400);
    // The server's detail shows the new size.
    const server = (await call('GET', '/servers?server_name=server-0001')).body.servers[0];
    expect((await call('GET', `/servers/${server.server_id}`)).body.band_widths[0]).toMatchObject({ band_width_id: id, band_width_size: 2000 });
  });

  it('answers 404 CPS.0911 for an unknown bandwidth', async () => {
    const r = await call('PUT', `/bandwidths/${'a'.repeat(32)}`, { band_width_size: 10 });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error_code: 'CPS.0911', error_msg: 'Bandwidth is not found.' });
  });
});
