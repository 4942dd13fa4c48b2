import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { makeDataDir, removeDataDir, startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';
import { openStream, type SseStream } from '../helpers/sse.js';

/** Live events across nodes on one PostgreSQL: a stream on one node sees the jobs another node runs. */
describe('live events across nodes', () => {
  let store: TestDatabase;
  let api: TestNode;
  let worker: TestNode;
  const dirs = [makeDataDir(), makeDataDir()];
  const streams: SseStream[] = [];

  beforeAll(async () => {
    store = await createTestDatabase();
    // The API node runs no jobs: every job.started and job.finished it streams was written by the other.
    api = await startTestNode({ database: store.url, dataDir: dirs[0], role: 'api', servers: 2, phonesPerServer: 5 });
    worker = await startTestNode({ database: store.url, dataDir: dirs[1], role: 'all', simDelayMs: 5 });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await worker.close();
    await api.close();
    for (const d of dirs) await removeDataDir(d);
    await store.drop();
  });

  it('streams on both nodes carry the same events in the same order, whichever node wrote them', async () => {
    const target = `/_opencph/v1/${DEFAULT_PROJECT_ID}/events`;
    const [onApi, onWorker] = await Promise.all([openStream(api.url + target), openStream(worker.url + target)]);
    streams.push(onApi!, onWorker!);
    const phones: string[] = (await api.get('/phones?limit=100')).body.phones.map((p: any) => p.phone_id);
    expect(phones).toHaveLength(10);
    // Submitted through both nodes, run by the one that runs jobs.
    const requests: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await (i % 2 ? worker : api).post('/phones/batch-restart', { phones: phones.map((phone_id) => ({ phone_id })) });
      expect(r.status, r.text).toBe(200);
      requests.push(r.body.request_id);
    }
    for (const id of requests) await waitForRequest(api, id);
    const finished = (e: { event: string }) => e.event === 'job.finished';
    await Promise.all([onApi!.waitFor(40, finished), onWorker!.waitFor(40, finished)]);
    const jobEvents = (s: SseStream) => s.events.filter((e) => e.event.startsWith('job.'));
    await onApi!.waitFor(120, (e) => e.event.startsWith('job.'));
    await onWorker!.waitFor(120, (e) => e.event.startsWith('job.'));
    // Each job: accepted, started, finished (2), in that order; per phone, job after job.
    const byJob = new Map<string, string[]>();
    for (const e of jobEvents(onApi!)) byJob.set(e.data.job_id, [...(byJob.get(e.data.job_id) ?? []), `${e.event}:${e.data.status}`]);
    expect(byJob.size).toBe(40);
    for (const list of byJob.values()) expect(list).toEqual(['job.accepted:1', 'job.started:1', 'job.finished:2']);
    // One order for every node: the same ids, the same events.
    const ids = (s: SseStream) => s.events.map((e) => Number(e.id));
    const common = Math.min(onApi!.events.length, onWorker!.events.length);
    expect(ids(onApi!).slice(0, common)).toEqual(ids(onWorker!).slice(0, common));
    expect(ids(onApi!)).toEqual([...ids(onApi!)].sort((x, y) => x - y));
    // Resuming on the other node from the middle gives the same tail.
    const middle = onApi!.events[Math.floor(common / 2)]!.id;
    const resumed = await openStream(worker.url + target, { 'Last-Event-ID': middle });
    streams.push(resumed);
    const tail = onApi!.events.slice(Math.floor(common / 2) + 1, common);
    await resumed.waitFor(tail.length);
    expect(resumed.events.slice(0, tail.length).map((e) => [e.id, e.event])).toEqual(tail.map((e) => [e.id, e.event]));
  });
});
