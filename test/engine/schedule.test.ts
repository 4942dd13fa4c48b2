import { describe, expect, it } from 'vitest';
import { whyNotRerun } from '../../src/engine/recovery.js';
import { Operations } from '../../src/engine/operations.js';
import { pickRunnable } from '../../src/engine/schedule.js';

const job = (seq: number, state: string, phoneId: string | null, serverId: string, operation = 'phone.restart') => ({ seq, state, operation, phoneId, serverId });

describe('pickRunnable', () => {
  it('takes the oldest pending job of each phone, never one behind an unfinished job', () => {
    const active = [job(1, 'running', 'p1', 's1'), job(2, 'pending', 'p1', 's1'), job(3, 'pending', 'p2', 's1'), job(4, 'pending', 'p2', 's1'), job(5, 'pending', 'p3', 's2')];
    expect(pickRunnable(active, 10)).toEqual([3, 5]);
  });

  it('stops at max, oldest first', () => {
    const active = [job(1, 'pending', 'p1', 's1'), job(2, 'pending', 'p2', 's1'), job(3, 'pending', 'p3', 's1')];
    expect(pickRunnable(active, 2)).toEqual([1, 2]);
  });

  it('makes a server job wait for older jobs on its server, and later phone jobs wait for it', () => {
    const active = [job(1, 'running', 'p1', 's1'), job(2, 'pending', null, 's1'), job(3, 'pending', 'p2', 's1'), job(4, 'pending', 'p9', 's2'), job(5, 'pending', null, 's2')];
    expect(pickRunnable(active, 10)).toEqual([4]);
    // Once the phone job is done the server job runs; the phone job behind it still waits.
    expect(pickRunnable(active.slice(1), 10)).toEqual([2, 4]);
  });

  it('lets a server job run when nothing older is on its server', () => {
    expect(pickRunnable([job(7, 'pending', null, 's1'), job(8, 'pending', null, 's1')], 10)).toEqual([7]);
  });

  it('gives adb work on one server as many slots as configured, oldest first', () => {
    const slots = { adbOperations: new Set(['phone.shell']), serverAdbConcurrency: 1 };
    const active = [
      job(1, 'running', 'p1', 's1', 'phone.shell'),
      job(2, 'pending', 'p2', 's1', 'phone.shell'),
      job(3, 'pending', 'p3', 's1', 'phone.restart'),
      job(4, 'pending', 'p4', 's2', 'phone.shell'),
    ];
    expect(pickRunnable(active, 10, slots)).toEqual([3, 4]);
    expect(pickRunnable(active, 10, { ...slots, serverAdbConcurrency: 2 })).toEqual([2, 3, 4]);
    expect(pickRunnable(active.slice(1), 10, slots)).toEqual([2, 3, 4]);
  });

  it('runs the jobs of one encode server first in first out, blocked by nothing else and blocking nothing else', () => {
    const encode = (seq: number, state: string, encodeServerId: string) => ({ seq, state, operation: Operations.restartEncodeServer.name, phoneId: null, serverId: null, encodeServerId });
    const active = [
      encode(1, 'running', 'e1'),
      job(2, 'pending', null, 's1', 'server.restart'),
      encode(3, 'pending', 'e1'),
      encode(4, 'pending', 'e2'),
      job(5, 'pending', 'p1', 's1'),
      encode(6, 'pending', 'e2'),
    ];
    // e1's second waits for its first; e2's first runs beside a server job; e2's second waits for its first.
    expect(pickRunnable(active, 10)).toEqual([2, 4]);
    expect(pickRunnable(active.slice(1), 10)).toEqual([2, 3, 4]);
    // An interrupted encode-server restart runs again, as a power action does.
    expect(whyNotRerun({ operation: Operations.restartEncodeServer.name, attempts: 1 })).toBeUndefined();
  });
});
