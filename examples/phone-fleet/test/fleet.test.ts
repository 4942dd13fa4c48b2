import { startOpenCph, type OpenCph } from 'opencph';
import { afterEach, describe, expect, it } from 'vitest';
import { CphClient } from '../src/cph.js';
import { resetAll, resetAndWait, restartAndWait } from '../src/fleet.js';

/** Poll `check` (every 20 ms) until it answers something other than undefined. */
async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('restarting and resetting phones', () => {
  let server: OpenCph | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** A fresh OpenCPH (in memory, one server of four phones), our client on it and its phone ids. */
  async function start(options: Parameters<typeof startOpenCph>[0] = {}) {
    server = await startOpenCph(options);
    const client = await CphClient.login(server);
    const phones = (await client.listPhones()).phones.map((p) => p.phone_id);
    return { server, client, phones };
  }

  it('restarts every phone and reports each one as done', async () => {
    const { client, phones } = await start();
    const results = await restartAndWait(client, phones, { timeoutMs: 10_000, pollMs: 20 });
    expect(results).toEqual(phones.map((phoneId) => ({ phoneId, ok: true, jobId: expect.any(String) })));
  });

  it('reports the phone whose restart failed, with the code CPH gives', async () => {
    const { server, client, phones } = await start();
    await server.rules.create({
      match: { operation: 'phone.restart', phone_id: phones[1] },
      outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } },
    });
    const results = await restartAndWait(client, phones, { timeoutMs: 10_000, pollMs: 20 });
    expect(results.map((r) => [r.phoneId, r.ok, r.errorCode])).toEqual(phones.map((p, i) => (i === 1 ? [p, false, 'CPS.0022'] : [p, true, undefined])));
    expect(results[1]?.errorMsg).toBe('Not available phone.');
  });

  it('waits for a restart that hangs until the test releases it', async () => {
    const { server, client, phones } = await start();
    await server.rules.create({ match: { operation: 'phone.restart', phone_id: phones[0], times: 1 }, outcome: { hang: true } });
    const waiting = restartAndWait(client, phones.slice(0, 2), { timeoutMs: 10_000, pollMs: 20 });
    const [held] = await until(async () => {
      const jobs = await server.heldJobs.list();
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(held).toMatchObject({ phone_id: phones[0], operation: 'phone.restart' });
    await server.heldJobs.release(held!.job_id, { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } });
    const results = await waiting;
    expect(results).toEqual([
      { phoneId: phones[0], ok: false, jobId: held!.job_id, errorCode: 'CPS.0022', errorMsg: 'Not available phone.' },
      { phoneId: phones[1], ok: true, jobId: expect.any(String) },
    ]);
  });

  it('passes a 30-minute reset in a moment of virtual time', async () => {
    // A simulated reset takes five base delays: 6 minutes each. Its time limit is raised to an hour.
    const { server, client, phones } = await start({ clock: { virtual: true }, simDelayMs: 6 * 60_000, timeLimits: { operation: 3_600_000 } });
    const phone = phones[0]!;
    const began = (await server.clock.now()).now_ms;
    const statusOf = async () => (await client.listPhones()).phones.find((p) => p.phone_id === phone)?.status;
    const resetting = resetAndWait(client, [phone], { timeoutMs: 10_000, pollMs: 20 });
    // The reset has begun once the phone shows status 3 (resetting).
    await until(async () => ((await statusOf()) === 3 ? true : undefined));

    // An advance returns once what was due by then has run: a minute early, the phone still resets.
    await server.clock.advance({ by: '29m' });
    expect(await statusOf()).toBe(3);

    const after = await server.clock.advance({ by: '1m' });
    expect(await resetting).toEqual([{ phoneId: phone, ok: true, jobId: expect.any(String) }]);
    expect(after.now_ms - began).toBe(30 * 60_000);
  });

  it('resets the whole fleet', async () => {
    const { client, phones } = await start();
    const results = await resetAll(client, { timeoutMs: 10_000, pollMs: 20 });
    expect(results.map((r) => [r.phoneId, r.ok])).toEqual(phones.map((p) => [p, true]));
  });
});
