import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { request } from '../helpers/http.js';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';

let t: TestNode | undefined;
let socket: Socket | undefined;
afterEach(async () => {
  socket?.destroy();
  await t?.close();
});

/** Everything the server sends on `s` until it closes the connection. */
function readAll(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (chunk) => (text += chunk));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

it('a call that arrives while the node closes is refused in CPH format, and the connection closes after it', async () => {
  t = await startTestNode();
  const { port } = new URL(t.url);
  socket = connect(Number(port), '127.0.0.1');
  await new Promise((r) => socket!.once('connect', r));
  const answer = readAll(socket);
  // A call half sent when the close begins: the connection is busy, so it is not closed as idle.
  socket.write(`GET /v1/${t.cph.split('/v1/')[1]}/phones HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  const closed = t.close();
  t = undefined;
  await new Promise((r) => setTimeout(r, 100));
  socket.write('Connection: keep-alive\r\n\r\n');
  const text = await answer;
  await closed;
  const [head, body] = text.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 503 /);
  expect(head!.toLowerCase()).toContain('connection: close');
  const requestId = /x-request-id: ([0-9a-f]{32})/i.exec(head!)?.[1];
  expect(head!.toLowerCase()).toContain('retry-after: 1');
  expect(JSON.parse(body!)).toEqual({ request_id: requestId, error_code: 'CPS.0905', error_msg: 'The node is shutting down; send the call again.' });
});

it('a call in flight when the node closes is answered with Connection: close, and the close does not wait for its client', async () => {
  t = await startTestNode();
  const phone = (await t.get('/phones?limit=1')).body.phones[0].phone_id;
  // A client that keeps connections for a minute: without Connection: close the close would wait for it.
  const agent = new Agent({ keepAlive: true, timeout: 60_000 });
  const body = JSON.stringify({ command: 'shell', content: 'sleep 1; echo done', phone_ids: [phone] });
  const answered = request(`${t.cph}/phones/sync-commands`, 'POST', { agent, headers: { 'content-type': 'application/json' }, body });
  // The call is in flight once its job runs (it runs for a second).
  await waitFor(async () => ((await t!.node.handle.db.selectFrom('jobs').select('state').where('phone_id', '=', phone).executeTakeFirst())?.state === 'running' ? true : undefined));
  const closed = t.close().then(() => 'closed');
  t = undefined;
  const answer = await answered;
  expect(answer.status).toBe(200);
  expect(answer.body.jobs.map((j: any) => [j.status, j.execute_msg])).toEqual([[2, 'done\n']]);
  expect(answer.headers.connection).toBe('close');
  const timeout = new Promise((r) => setTimeout(() => r('still waiting after 15 s'), 15_000).unref());
  expect(await Promise.race([closed, timeout])).toBe('closed');
  agent.destroy();
});
