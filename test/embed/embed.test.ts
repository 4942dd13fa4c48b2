import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenCphApiError, OpenCphControl, startOpenCph, type OpenCph } from '../../src/index.js';
import { CphClient, refusal } from '../helpers/cphClient.js';
import { createTestDatabase, STORE } from '../helpers/database.js';
import { phonesOf, sdkClient, startOnSuiteStore } from '../helpers/embed.js';
import { makeDataDir, removeDataDir } from '../helpers/node.js';

/** Whether something can listen on the port of 127.0.0.1 now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('startOpenCph: a server in the test process', () => {
  let a: OpenCph;
  let b: OpenCph;
  beforeAll(async () => {
    [a, b] = await Promise.all([startOnSuiteStore(), startOnSuiteStore({ fleet: { servers: 2, phonesPerServer: 2 } })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('runs two servers at once, on distinct free ports, sharing nothing', async () => {
    expect(a.endpoint).toBe(`http://127.0.0.1:${a.port}`);
    expect(b.port).not.toBe(a.port);
    expect(a).toMatchObject({ projectId: '0123456789abcdef0123456789abcdef', region: 'cn-north-4', ak: 'EXAMPLEAK0000000001', account: 'opencph', user: 'opencph-admin' });
    // The default fleet, and the one asked for.
    expect(await phonesOf(a)).toHaveLength(4);
    expect(await phonesOf(b)).toHaveLength(4);
    expect((await sdkClient(b).listCloudPhoneServers()).servers).toHaveLength(2);

    const rule = await a.rules.create({ match: { operation: 'phone.stop' }, outcome: {} });
    expect((await a.rules.list()).map((r) => r.rule_id)).toEqual([rule.rule_id]);
    expect(await b.rules.list()).toEqual([]);
    await a.rules.clear();
  });

  it('answers CPH calls signed by the official SDK (auth verify), and jobs run', async () => {
    const sdk = sdkClient(a);
    const [phone] = await phonesOf(a);
    const batch = await sdk.restartCloudPhone({ body: { phones: [{ phone_id: phone! }] } });
    expect(batch.jobs[0]).toMatchObject({ phone_id: phone, job_id: expect.any(String) });
    const [job] = await sdk.waitForJobs(batch.request_id, 10_000, 20);
    expect(job).toMatchObject({ phone_id: phone, status: 2 });
    // A wrong secret is refused as on the cloud.
    const wrong = await refusal(new CphClient(a.endpoint, a.ak, 'x'.repeat(40), a.projectId).listCloudPhones());
    expect(wrong).toMatchObject({ httpStatusCode: 401, errorCode: 'APIGW.0301' });
  });

  it('scripts a failure with the rules handle: create, list with its count, delete, clear', async () => {
    const sdk = sdkClient(a);
    const phones = await phonesOf(a);
    const rule = await a.rules.create({
      match: { operation: 'phone.restart', phone_id: phones[1], times: 1 },
      outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } },
    });
    expect(rule).toMatchObject({ rule_id: expect.stringMatching(/^[0-9a-f]{32}$/), match: { operation: 'phone.restart', phone_id: phones[1] }, remaining: 1, matched: 0, create_time: expect.any(String) });
    const batch = await sdk.restartCloudPhone({ body: { phones: phones.slice(0, 2).map((phone_id) => ({ phone_id })) } });
    const jobs = await sdk.waitForJobs(batch.request_id, 10_000, 20);
    const byPhone = Object.fromEntries(jobs.map((j) => [j.phone_id, j]));
    expect(byPhone[phones[0]!]).toMatchObject({ status: 2 });
    expect(byPhone[phones[1]!]).toMatchObject({ status: -1, error_code: 'CPS.0022', error_msg: 'Not available phone.' });
    expect(await a.rules.list()).toEqual([{ ...rule, remaining: 0, matched: 1, seen: 1 }]);

    await a.rules.delete(rule.rule_id);
    expect(await a.rules.list()).toEqual([]);
    await a.rules.create({ match: { operation: 'phone.stop' } });
    await a.rules.create({ match: { operation: 'phone.reset' } });
    expect(await a.rules.list()).toHaveLength(2);
    await a.rules.clear();
    expect(await a.rules.list()).toEqual([]);
  });

  it('puts a phone and a server in a fault status with the faults handle, and back', async () => {
    const sdk = sdkClient(b);
    const [first, second] = (await sdk.listCloudPhoneServers()).servers.map((s) => s.server_id);
    // A phone of the first server frozen, the second server abnormal.
    const phone = (await sdk.listCloudPhones({ server_id: first })).phones[0]!.phone_id;
    const serverId = second!;
    const set = await b.faults.set({ phones: [{ phone_id: phone!, status: 6 }], servers: [{ server_id: serverId, status: 2 }] });
    expect(set.phones).toEqual([{ phone_id: phone, status: 6, update_time: expect.any(String) }]);
    expect(set.servers).toEqual([expect.objectContaining({ server_id: serverId, status: 2 })]);
    expect((await sdk.showCloudPhoneDetail({ phone_id: phone! })).status).toBe(6);
    // A frozen phone refuses its restart, as CPH does.
    const batch = await sdk.restartCloudPhone({ body: { phones: [{ phone_id: phone! }] } });
    expect((await sdk.waitForJobs(batch.request_id, 10_000, 20))[0]).toMatchObject({ status: -1, error_code: 'CPS.0022' });

    const listed = await b.faults.list();
    expect(listed.phones.map((p) => [p.phone_id, p.status])).toEqual([[phone, 6]]);
    expect(listed.servers.map((s) => [s.server_id, s.status])).toEqual([[serverId, 2]]);
    // An unknown phone is answered in its own item.
    const unknown = await b.faults.set({ phones: [{ phone_id: 'f'.repeat(32), status: -7 }] });
    expect(unknown.phones[0]).toMatchObject({ error_code: 'CPS.0004' });

    const cleared = await b.faults.clear();
    expect(cleared.phones.map((p) => [p.phone_id, p.status])).toEqual([[phone, 2]]);
    expect(await b.faults.list()).toEqual({ phones: [], servers: [] });
    expect((await sdk.showCloudPhoneDetail({ phone_id: phone! })).status).toBe(2);
  });

  it('surfaces an error answer as OpenCphApiError with its status, code and message', async () => {
    const missing = await a.rules.delete('0'.repeat(32)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenCphApiError);
    expect(missing).toMatchObject({ status: 404, error_code: 'CPS.0965', error_msg: 'The rule does not exist.', request_id: expect.any(String) });
    const bad = await a.rules.create({ match: { operation: 'phone.fly' } }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'OpenCphApiError', status: 400, error_code: 'CPS.0034', error_msg: 'Parameter: match.operation is invalid.' });
  });

  it('OpenCphControl works against any endpoint with an access key, and is refused with a wrong one', async () => {
    const control = new OpenCphControl({ endpoint: b.endpoint, projectId: b.projectId, ak: b.ak, sk: b.sk });
    expect(await control.faults.list()).toEqual({ phones: [], servers: [] });
    const wrong = new OpenCphControl({ endpoint: b.endpoint, projectId: b.projectId, ak: b.ak, sk: 'not-the-secret-key' });
    await expect(wrong.rules.list()).rejects.toMatchObject({ status: 401, error_code: 'APIGW.0301' });
    // Another project than the key's: CPH's 403.
    const other = new OpenCphControl({ endpoint: b.endpoint, projectId: 'f'.repeat(32), ak: b.ak, sk: b.sk });
    await expect(other.rules.list()).rejects.toMatchObject({ status: 403, error_code: 'CPS.0001' });
  });
});

describe('startOpenCph: close', () => {
  it('frees the port and removes the temporary directory it made', async () => {
    const s = await startOnSuiteStore();
    const dir = dirname(s.obsDir);
    expect(existsSync(dir)).toBe(true);
    expect(await portIsFree(s.port)).toBe(false);
    await s.close();
    expect(await portIsFree(s.port)).toBe(true);
    expect(existsSync(dir)).toBe(false);
    // A second close is the same close.
    await s.close();
  });

  it('keeps the database it is given: a second start on it finds what the first wrote', async () => {
    const dir = makeDataDir();
    const pg = STORE === 'postgres' ? await createTestDatabase() : undefined;
    const database = pg?.url ?? join(dir, 'fleet.db');
    try {
      const first = await startOpenCph({ database, fleet: { servers: 1, phonesPerServer: 2 } });
      const rule = await first.rules.create({ match: { operation: 'phone.stop' } });
      const phones = await phonesOf(first);
      await first.close();
      if (!pg) expect(existsSync(database)).toBe(true);
      const again = await startOpenCph({ database });
      expect((await again.rules.list()).map((r) => r.rule_id)).toEqual([rule.rule_id]);
      expect(await phonesOf(again)).toEqual(phones);
      await again.close();
    } finally {
      await removeDataDir(dir);
      await pg?.drop();
    }
  });
});
