import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { listJobsResponse, showJobResponse } from '../../src/http/schemas/jobs.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { makeDataDir, PROJECT, removeDataDir, startTestNode, waitFor, type TestNode } from '../helpers/node.js';

const ID = /^[0-9a-f]{32}$/;
const key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };

describe('encode servers', () => {
  let t: TestNode;
  let servers: any[];
  let encodeServers: any[];
  const call = (method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, key, method, `/v1/${PROJECT}/cloud-phone${path}`, { body });

  async function jobsOf(requestId: string): Promise<any[]> {
    return waitFor(async () => {
      const r = await call('GET', `/jobs?request_id=${requestId}`);
      return r.body.jobs.every((j: any) => j.status !== 1) ? r.body.jobs : undefined;
    });
  }

  beforeAll(async () => {
    // Slow enough to see an encode server restarting (4 base delays).
    t = await startTestNode({ auth: 'verify', servers: 3, phonesPerServer: 1, simDelayMs: 150, simJournal: true });
    servers = (await call('GET', '/servers')).body.servers;
    encodeServers = (await call('GET', '/encode-servers')).body.encode_servers;
  });
  afterAll(() => t.close());

  it('gives every seeded server an encode container, listed newest first with every EncodeServer field', async () => {
    const r = await call('GET', '/encode-servers');
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['encode_servers', 'request_id']);
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
    expect(encodeServers.map((e) => e.server_id)).toEqual(servers.map((s) => s.server_id));
    const [first] = encodeServers;
    expect(first).toEqual({
      encode_server_name: `encode-${servers[0].server_name}`,
      encode_server_id: expect.stringMatching(ID),
      encode_server_ip: servers[0].addresses[0].server_ip,
      server_id: servers[0].server_id,
      keypair_name: servers[0].keypair_name,
      type: 1,
      status: 1,
      access_infos: [expect.objectContaining({ type: 'cph_app_server', listen_port: 8000, access_port: 8000, server_ip: servers[0].addresses[0].server_ip })],
      encode_server_ipv6: '',
    });
  });

  it('filters by type, status (the query enum) and server, and pages (limit 1..100)', async () => {
    const ids = async (q: string) => {
      const r = await call('GET', `/encode-servers?${q}`);
      expect(r.status, `${q}: ${r.text}`).toBe(200);
      return r.body.encode_servers.map((e: any) => e.encode_server_id);
    };
    const all = encodeServers.map((e) => e.encode_server_id);
    expect(await ids('type=1')).toEqual(all);
    expect(await ids('type=0')).toEqual([]);
    expect(await ids('status=1')).toEqual(all);
    // Query values without a model value (frozen, shut down) and the creating ones match none here.
    for (const status of [2, 3, 4, 5, 0, 100, 1014]) expect(await ids(`status=${status}`), `status=${status}`).toEqual([]);
    expect(await ids(`server_id=${servers[1].server_id}`)).toEqual([all[1]]);
    expect(await ids(`server_id=${'a'.repeat(32)}`)).toEqual([]);
    expect(await ids('offset=1&limit=1')).toEqual([all[1]]);
    for (const q of ['limit=101', 'limit=0', 'offset=-1']) expect((await call('GET', `/encode-servers?${q}`)).body.error_code, q).toBe('CPS.0002');
    expect((await call('GET', '/encode-servers?status=6')).body.error_code).toBe('CPS.0010');
    const badType = await call('GET', '/encode-servers?type=2');
    expect([badType.status, badType.body.error_code, badType.body.error_msg]).toEqual([400, 'CPS.0034', 'Parameter: type is invalid.']);
    expect((await call('GET', `/encode-servers?server_id=${'a'.repeat(33)}`)).body.error_code).toBe('CPS.0016');
  });

  it('restarts encode servers: 3 while restarting, then 1; jobs show encode_server_id and no phone or server id', async () => {
    const target = encodeServers[2].encode_server_id;
    const r = await call('POST', '/encode-servers/batch-restart', { encode_server_ids: [target, 'b'.repeat(32), 'not/an id'] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.jobs).toEqual([
      { encode_server_id: target, job_id: expect.stringMatching(ID) },
      { encode_server_id: 'b'.repeat(32), job_id: expect.stringMatching(ID), error_code: 'CPS.0930', error_msg: 'Parameter: encode_server_id is invalid.' },
      { encode_server_id: 'not/an id', job_id: expect.stringMatching(ID), error_code: 'CPS.0930', error_msg: 'Parameter: encode_server_id is invalid.' },
    ]);
    const statusOf = async () => (await call('GET', `/encode-servers?server_id=${servers[2].server_id}`)).body.encode_servers[0].status;
    await waitFor(async () => ((await statusOf()) === 3 ? true : undefined));
    expect((await call('GET', '/encode-servers?status=3')).body.encode_servers.map((e: any) => e.encode_server_id)).toEqual([target]);
    const jobs = await jobsOf(r.body.request_id);
    expect(await statusOf()).toBe(1);
    expect(jobs.map((j) => [j.encode_server_id, j.status, j.error_code])).toEqual([
      [target, 2, ''],
      ['b'.repeat(32), -1, 'CPS.0930'],
      ['not/an id', -1, 'CPS.0930'],
    ]);
    expect(Object.keys(jobs[0])).toEqual(['encode_server_id', 'job_id', 'begin_time', 'end_time', 'status', 'error_code', 'error_msg', 'execute_msg']);
    const show = await call('GET', `/jobs/${jobs[0].job_id}`);
    expect(show.status, show.text).toBe(200);
    // The routes' response schemas (the OpenAPI document) describe these answers, and refuse an encode job without its id.
    const ajv = new Ajv({ allowUnionTypes: true });
    const [validList, validShow] = [ajv.compile(listJobsResponse), ajv.compile(showJobResponse)];
    expect(validList((await call('GET', `/jobs?request_id=${r.body.request_id}`)).body), JSON.stringify(validList.errors)).toBe(true);
    expect(validShow(show.body), JSON.stringify(validShow.errors)).toBe(true);
    const { encode_server_id: _, ...anonymous } = show.body;
    expect(validShow(anonymous)).toBe(false);
    expect(show.body).toMatchObject({ job_id: jobs[0].job_id, encode_server_id: target, status: 2, error_code: null });
    expect(show.body).not.toHaveProperty('phone_id');
    expect(show.body).not.toHaveProperty('server_id');
    // Phone and server jobs keep their shape, with no encode_server_id.
    const phoneJob = await call('POST', '/servers/batch-restart', { server_ids: [servers[0].server_id] });
    const [serverJob] = await jobsOf(phoneJob.body.request_id);
    expect(serverJob).not.toHaveProperty('encode_server_id');
    expect((await call('GET', `/jobs/${serverJob.job_id}`)).body).toMatchObject({ phone_id: null, server_id: servers[0].server_id });
    expect((await call('GET', `/jobs/${serverJob.job_id}`)).body).not.toHaveProperty('encode_server_id');
  });

  it('runs the jobs of one encode server one at a time, first in first out, beside its server and other encode servers', async () => {
    const [e0, e1] = encodeServers.map((e) => e.encode_server_id);
    const first = await call('POST', '/encode-servers/batch-restart', { encode_server_ids: [e0, e1] });
    const second = await call('POST', '/encode-servers/batch-restart', { encode_server_ids: [e0] });
    const jobs = [...(await jobsOf(first.body.request_id)), ...(await jobsOf(second.body.request_id))];
    expect(jobs.map((j) => j.status)).toEqual([2, 2, 2]);
    const runs = await t.node.handle.db
      .selectFrom('sim_runs')
      .select(['job_id', 'started_at', 'ended_at'])
      .where('job_id', 'in', jobs.map((j) => j.job_id))
      .execute();
    const run = (jobId: string) => runs.find((r) => r.job_id === jobId)!;
    const [a, other, b] = jobs.map((j) => run(j.job_id));
    // e0's second restart starts once its first has ended; e1's ran beside e0's first.
    expect(Number(b!.started_at)).toBeGreaterThanOrEqual(Number(a!.ended_at));
    expect(Number(other!.started_at)).toBeLessThan(Number(a!.ended_at));
  });

  it('documents its operations, and the phone extras, in the OpenAPI document', async () => {
    const doc = await t.get('/openapi.json');
    const ops = Object.values(doc.body.paths as Record<string, Record<string, any>>).flatMap((p) => Object.values(p).map((o) => o.operationId));
    for (const op of ['ListEncodeServers', 'RestartEncodeServer', 'BatchShowPhoneConnectInfos', 'ExpandPhoneDataVolumeSize', 'ImportTraffic']) expect(ops, op).toContain(op);
  });

  it('refuses an empty or oversized list', async () => {
    for (const body of [{ encode_server_ids: [] }, { encode_server_ids: Array.from({ length: 101 }, () => 'a'.repeat(32)) }, {}]) {
      const r = await call('POST', '/encode-servers/batch-restart', body);
      expect([r.status, r.body.error_code], r.text).toEqual([400, 'CPS.0034']);
    }
  });
});

describe('an encode-server restart interrupted by a shutdown', () => {
  it('is handed back and runs again on the next start: the encode server ends running', async () => {
    const dataDir = makeDataDir();
    try {
      const first = await startTestNode({ dataDir, servers: 1, phonesPerServer: 1, simDelayMs: 60_000 });
      const [target] = (await first.get(`${first.cph}/encode-servers`)).body.encode_servers;
      const r = await first.post(`${first.cph}/encode-servers/batch-restart`, { encode_server_ids: [target.encode_server_id] });
      const statusOn = async (t: TestNode) => (await t.get(`${t.cph}/encode-servers`)).body.encode_servers[0].status;
      await waitFor(async () => ((await statusOn(first)) === 3 ? true : undefined));
      await first.close(0);
      const second = await startTestNode({ dataDir, simDelayMs: 0 });
      try {
        const [job] = await waitFor(async () => {
          const jobs = (await second.get(`/jobs?request_id=${r.body.request_id}`)).body.jobs;
          return jobs[0].status !== 1 ? jobs : undefined;
        });
        expect([job.encode_server_id, job.status]).toEqual([target.encode_server_id, 2]);
        expect(await statusOn(second)).toBe(1);
        const [row] = await second.node.handle.db.selectFrom('jobs').select('attempts').where('job_id', '=', job.job_id).execute();
        expect(row!.attempts).toBe(2);
      } finally {
        await second.close();
      }
    } finally {
      await removeDataDir(dataDir);
    }
  });
});
