import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTicket } from '../../src/auth/connectTickets.js';
import { DEFAULTS } from '../../src/config.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { PROJECT, startTestNode, waitFor, type TestNode } from '../helpers/node.js';

const ID = /^[0-9a-f]{32}$/;
const key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const UNKNOWN = 'f'.repeat(32);

describe('phone connection details, data volumes and traffic', () => {
  let t: TestNode;
  let phones: any[];
  let stopped: string;
  const call = (method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, key, method, `/v1/${PROJECT}/cloud-phone${path}`, { body });

  async function jobsOf(requestId: string): Promise<any[]> {
    return waitFor(async () => {
      const r = await call('GET', `/jobs?request_id=${requestId}`);
      return r.body.jobs.every((j: any) => j.status !== 1) ? r.body.jobs : undefined;
    });
  }
  const detail = async (phoneId: string) => (await call('GET', `/phones/${phoneId}`)).body;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 3 });
    phones = (await call('GET', '/phones')).body.phones;
    stopped = phones[5].phone_id;
    const stop = await call('POST', '/phones/batch-stop', { phone_ids: [stopped] });
    expect((await jobsOf(stop.body.request_id))[0].status).toBe(2);
  });
  afterAll(() => t.close());

  describe('BatchShowPhoneConnectInfos', () => {
    it('answers running phones with a new session and ticket on every call, and lists the others in errors', async () => {
      const [p0, p1] = [phones[0].phone_id, phones[1].phone_id];
      const body = { phone_ids: [p0, UNKNOWN, stopped, p1, 'bad/id'], client_type: 'ANDROID' };
      const first = await call('POST', '/phones/batch-connection', body);
      expect(first.status, first.text).toBe(200);
      expect(first.body.request_id).toBe(first.headers['x-request-id']);
      expect(first.body.connect_infos.map((c: any) => c.phone_id)).toEqual([p0, p1]);
      const server = (await call('GET', `/servers/${phones[0].server_id}`)).body;
      const info = first.body.connect_infos[0].access_info;
      expect(info).toEqual({
        access_ip: server.addresses[0].public_ip,
        intranet_ip: server.addresses[0].server_ip,
        access_ipv6: '',
        access_port: (await detail(p0)).access_infos[0].access_port,
        session_id: expect.stringMatching(ID),
        timestamp: expect.stringMatching(/^\d{13}$/),
        ticket: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(first.body.errors).toEqual([
        { phone_id: UNKNOWN, error_code: 'CPS.0005', error_msg: 'Phone is not found.' },
        { phone_id: stopped, error_code: 'CPS.0022', error_msg: 'Not available phone. The phone is stopped (status 8).' },
        { phone_id: 'bad/id', error_code: 'CPS.0004', error_msg: 'Parameter: phone_id is invalid.' },
      ]);
      const claims = { projectId: PROJECT, phoneId: p0, clientType: 'ANDROID', sessionId: info.session_id, timestamp: info.timestamp };
      expect(verifyTicket(info.ticket, claims)).toBe(true);
      // The ticket is bound to what it grants.
      expect(verifyTicket(info.ticket, { ...claims, phoneId: p1 })).toBe(false);
      expect(verifyTicket(info.ticket, { ...claims, clientType: 'IOS' })).toBe(false);

      const second = await call('POST', '/phones/batch-connection', body);
      const again = second.body.connect_infos[0].access_info;
      expect(again.session_id).not.toBe(info.session_id);
      expect(again.ticket).not.toBe(info.ticket);
      expect(second.body.errors).toEqual(first.body.errors);
    });

    it('takes 1..10 phones and one of the five client types', async () => {
      for (const client_type of ['ANDROID', 'WINDOWS', 'H5_MOBILE', 'H5_PC', 'IOS']) {
        expect((await call('POST', '/phones/batch-connection', { phone_ids: [phones[0].phone_id], client_type })).status, client_type).toBe(200);
      }
      const cases: [unknown, number, string][] = [
        [{ phone_ids: [phones[0].phone_id], client_type: 'LINUX' }, 400, 'CPS.0034'],
        [{ phone_ids: [phones[0].phone_id] }, 400, 'CPS.0034'],
        [{ phone_ids: [], client_type: 'ANDROID' }, 400, 'CPS.0009'],
        [{ phone_ids: Array.from({ length: 11 }, () => phones[0].phone_id), client_type: 'ANDROID' }, 400, 'CPS.0034'],
      ];
      for (const [body, status, code] of cases) {
        const r = await call('POST', '/phones/batch-connection', body);
        expect([r.status, r.body.error_code], JSON.stringify(body)).toEqual([status, code]);
      }
    });
  });

  describe('ExpandPhoneDataVolumeSize', () => {
    it('grows a volume; the same size changes nothing; smaller, too large or unknown fail their item', async () => {
      const [p0, p1, p2] = phones.map((p) => p.phone_id);
      const size = (await detail(p0)).phone_data_volume.volume_size;
      const r = await call('POST', '/phones/expand-volume', {
        phones: [
          { phone_id: p0, new_size: size + 64 },
          { phone_id: p1, new_size: size },
          { phone_id: p2, new_size: size - 1 },
          { phone_id: phones[3].phone_id, new_size: 32768 },
          { phone_id: UNKNOWN, new_size: 100 },
          { phone_id: stopped, new_size: size + 1 },
        ],
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.jobs.map((j: any) => [j.phone_id, j.error_code])).toEqual([
        [p0, undefined],
        [p1, undefined],
        [p2, 'CPS.0932'],
        [phones[3].phone_id, 'CPS.0034'],
        [UNKNOWN, 'CPS.0005'],
        [stopped, undefined],
      ]);
      expect(r.body.jobs[2].error_msg).toBe(`Parameter: new_size is smaller than the current volume size. The phone has ${size} GiB.`);
      expect(r.body.jobs[3].error_msg).toBe('Parameter: new_size is invalid. It must be at least 1 and less than 32768 GiB.');
      const jobs = await jobsOf(r.body.request_id);
      expect(jobs.map((j) => j.status)).toEqual([2, 2, -1, -1, -1, 2]);
      expect((await detail(p0)).phone_data_volume.volume_size).toBe(size + 64);
      expect((await detail(p1)).phone_data_volume.volume_size).toBe(size);
      expect((await detail(p2)).phone_data_volume.volume_size).toBe(size);
      // A stopped phone's volume grows too (it is not running, but its disk is outside it).
      expect((await detail(stopped)).phone_data_volume.volume_size).toBe(size + 1);
    });

    it('checks the size again when the job runs: an earlier queued expansion counts', async () => {
      const p = phones[4].phone_id;
      const size = (await detail(p)).phone_data_volume.volume_size;
      const r = await call('POST', '/phones/expand-volume', { phones: [{ phone_id: p, new_size: size + 10 }, { phone_id: p, new_size: size + 5 }] });
      expect(r.body.jobs.map((j: any) => j.error_code)).toEqual([undefined, undefined]);
      const jobs = await jobsOf(r.body.request_id);
      expect(jobs.map((j) => [j.status, j.error_code])).toEqual([
        [2, ''],
        [-1, 'CPS.0932'],
      ]);
      expect((await detail(p)).phone_data_volume.volume_size).toBe(size + 10);
    });

    it('refuses a body without phones or with a size that is not a whole number', async () => {
      for (const [body, code] of [
        [{ phones: [] }, 'CPS.0009'],
        [{ phones: [{ phone_id: phones[0].phone_id, new_size: 'big' }] }, 'CPS.0034'],
        [{ phones: [{ phone_id: phones[0].phone_id, new_size: 1.5 }] }, 'CPS.0034'],
      ] as const) {
        const r = await call('POST', '/phones/expand-volume', body);
        expect([r.status, r.body.error_code], JSON.stringify(body)).toEqual([400, code]);
      }
    });
  });

  describe('ImportTraffic', () => {
    it("sets phones' traffic type, shown in ListCloudPhones and ShowCloudPhoneDetail", async () => {
      const [p0, p1] = [phones[0].phone_id, phones[1].phone_id];
      const r = await call('POST', '/phones-traffic', { traffic_type: 'routing', phone_ids: [p0, p1, UNKNOWN, stopped] });
      expect(r.status, r.text).toBe(200);
      expect(r.body.jobs.map((j: any) => [j.phone_id, j.error_code])).toEqual([
        [p0, undefined],
        [p1, undefined],
        [UNKNOWN, 'CPS.0005'],
        [stopped, undefined],
      ]);
      expect((await jobsOf(r.body.request_id)).map((j) => j.status)).toEqual([2, 2, -1, 2]);
      expect((await detail(p0)).traffic_type).toBe('routing');
      const listed = (await call('GET', '/phones')).body.phones;
      expect(listed.filter((p: any) => p.traffic_type === 'routing').map((p: any) => p.phone_id).sort()).toEqual([p0, p1, stopped].sort());
      const back = await call('POST', '/phones-traffic', { traffic_type: 'direct', phone_ids: [p1] });
      await jobsOf(back.body.request_id);
      expect((await detail(p1)).traffic_type).toBe('direct');
    });

    it('takes direct or routing and 1..100 phones', async () => {
      for (const [body, code] of [
        [{ traffic_type: 'vpn', phone_ids: [phones[0].phone_id] }, 'CPS.0034'],
        [{ phone_ids: [phones[0].phone_id] }, 'CPS.0034'],
        [{ traffic_type: 'direct', phone_ids: [] }, 'CPS.0009'],
        [{ traffic_type: 'direct', phone_ids: Array.from({ length: 101 }, () => phones[0].phone_id) }, 'CPS.0034'],
      ] as const) {
        const r = await call('POST', '/phones-traffic', body);
        expect([r.status, r.body.error_code], JSON.stringify(body)).toEqual([400, code]);
      }
    });
  });

  it('fails expansion and routing on a phone that is neither running nor stopped (CPS.0022)', async () => {
    const p = phones[2].phone_id;
    await t.node.handle.db.updateTable('phones').set({ status: -7 }).where('phone_id', '=', p).execute();
    const expand = await call('POST', '/phones/expand-volume', { phones: [{ phone_id: p, new_size: 200 }] });
    const traffic = await call('POST', '/phones-traffic', { traffic_type: 'routing', phone_ids: [p] });
    for (const r of [expand, traffic]) {
      const [job] = await jobsOf(r.body.request_id);
      expect([job.status, job.error_code]).toEqual([-1, 'CPS.0022']);
      expect(job.error_msg).toContain('abnormal (status -7)');
    }
    const conn = await call('POST', '/phones/batch-connection', { phone_ids: [p], client_type: 'H5_PC' });
    expect(conn.body.errors.map((e: any) => e.error_code)).toEqual(['CPS.0022']);
  });
});
