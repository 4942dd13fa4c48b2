import { afterEach, describe, expect, it } from 'vitest';
import { ADB_OPERATIONS } from '../../src/domain/commands.js';
import { whyNotRerun } from '../../src/engine/recovery.js';
import { phoneIds, startTestNode, waitFor, waitForRequest, type TestNode } from '../helpers/node.js';

describe('scheduling', () => {
  let t: TestNode | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('runs jobs on different phones concurrently, up to the configured limit', async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 6, simDelayMs: 40, concurrency: 2 });
    const node = t;
    const phones = await phoneIds(node);
    const r = await node.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) });
    let maxBusy = 0;
    await waitFor(async () => {
      const list = (await node.get('/phones')).body.phones;
      maxBusy = Math.max(maxBusy, list.filter((p: any) => p.status === 4).length);
      const jobs = (await node.get(`/jobs?request_id=${r.body.request_id}`)).body.jobs;
      return jobs.every((j: any) => j.status === 2) ? true : undefined;
    }, 15_000, 5);
    expect(maxBusy).toBe(2);
  });

  it('keeps per-phone order across many interleaved requests', async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 3, simDelayMs: 0 });
    const node = t;
    const phones = await phoneIds(node);
    // stop, restart, stop, restart… on each phone: any reordering would fail a stop or leave a phone stopped.
    const requests: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = i % 2 === 0 ? await node.post('/phones/batch-stop', { phone_ids: phones }) : await node.post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) });
      requests.push(r.body.request_id);
    }
    for (const id of requests) {
      const jobs = await waitForRequest(node, id);
      expect(jobs.map((j: any) => j.status)).toEqual([2, 2, 2]);
    }
    expect((await node.get('/phones?status=2')).body.count).toBe(3);
  });
});

describe('recovery policy', () => {
  it('re-runs power operations a few times, never commands that may have had an effect', () => {
    expect(whyNotRerun({ operation: 'phone.restart', attempts: 1 })).toBeUndefined();
    expect(whyNotRerun({ operation: 'phone.restart', attempts: 3 })).toMatch(/3 times/);
    expect(whyNotRerun({ operation: 'no.such', attempts: 1 })).toMatch(/unknown/);
    // Every adb command (install, uninstall, push, shell) may have changed the phone: never again.
    for (const operation of ADB_OPERATIONS) expect(whyNotRerun({ operation, attempts: 1 }), operation).toBe('it may already have had its effect on the phone');
    expect(ADB_OPERATIONS.size).toBe(4);
  });
});
