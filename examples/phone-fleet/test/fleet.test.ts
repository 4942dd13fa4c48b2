import { describe, expect, it } from 'vitest';
import { resetAll, restartAndWait } from '../src/fleet.js';
import { serverPerTest } from './server.js';

describe('restarting and resetting phones', () => {
  const start = serverPerTest();

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

  it('resets the whole fleet', async () => {
    const { client, phones } = await start();
    const results = await resetAll(client, { timeoutMs: 10_000, pollMs: 20 });
    expect(results.map((r) => [r.phoneId, r.ok])).toEqual(phones.map((p) => [p, true]));
  });
});
