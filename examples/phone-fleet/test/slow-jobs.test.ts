import { describe, expect, it } from 'vitest';
import { resetAndWait, restartAndWait } from '../src/fleet.js';
import { serverPerTest, until } from './server.js';

describe('jobs that take long', () => {
  const start = serverPerTest();

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
});
