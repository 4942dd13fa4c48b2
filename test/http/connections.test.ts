import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, type ChildNode } from '../helpers/child.js';
import { makeDataDir, PROJECT, removeDataDir, startTestNode, storeOf, type TestNode } from '../helpers/node.js';
import { parseAnswer, type RawAnswer } from '../helpers/raw.js';

const BATCH_STOP = `/v1/${PROJECT}/cloud-phone/phones/batch-stop`;

function expectCphError(r: RawAnswer, status: number, code: string) {
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(r.body ?? {}).sort(), r.text).toEqual(['error_code', 'error_msg', 'request_id']);
  expect(r.body.error_code).toBe(code);
  expect(r.headers['x-request-id']).toBe(r.body.request_id);
}

/**
 * A client that opens a connection, runs `act` on it and then only listens: resolves with what the
 * server wrote once the server has closed the connection.
 */
function untilServerCloses(port: number, act: (socket: Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => act(socket));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

const stalledHead = `POST ${BATCH_STOP} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;

describe.each(['off', 'verify'] as const)('slow and idle clients are closed (auth %s)', (auth) => {
  let t: TestNode;
  beforeAll(async () => {
    // Short limits, so that the test need not wait the defaults out.
    t = await startTestNode({ auth, headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 300 });
  });
  afterAll(() => t.close());

  it('answers 408 and closes a request whose body stalls after its first byte', async () => {
    expectCphError(parseAnswer(await untilServerCloses(t.node.port, (s) => s.write(`${stalledHead}{`))), 408, 'APIGW.0201');
  });

  it('answers 408 and closes a request whose body trickles in, a byte at a time', async () => {
    let timer: NodeJS.Timeout | undefined;
    const wire = await untilServerCloses(t.node.port, (s) => {
      s.write(stalledHead);
      timer = setInterval(() => s.writable && s.write(' '), 50);
    });
    clearInterval(timer);
    expectCphError(parseAnswer(wire), 408, 'APIGW.0201');
  });

  it('answers 408 and closes a request whose headers stop half-way, or that never starts', async () => {
    expectCphError(parseAnswer(await untilServerCloses(t.node.port, (s) => s.write(`GET /v1/${PROJECT}/cloud-phone/phones HTTP/1.1\r\nHost: 1`))), 408, 'APIGW.0201');
    expectCphError(parseAnswer(await untilServerCloses(t.node.port, () => undefined)), 408, 'APIGW.0201');
  });

  it('closes a keep-alive connection left idle after an answer', async () => {
    const wire = await untilServerCloses(t.node.port, (s) => s.write('GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    const answer = parseAnswer(wire);
    expectCphError(answer, 404, 'APIGW.0101');
    expect(answer.headers['connection']).toBe('keep-alive');
  });
});

/** POST `bytes` bytes with node:http as a client does: the answer, or the error the client saw. */
function postBody(port: number, bytes: number, headers: Record<string, string> = {}): Promise<{ status?: number; connection?: string; body?: any; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: BATCH_STOP, headers: { 'content-type': 'application/json', 'content-length': String(bytes), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(Buffer.alloc(bytes, 'a'));
    // A client busy elsewhere for a moment: the answer waits unread in its socket meanwhile.
    const until = Date.now() + 50;
    while (Date.now() < until);
  });
}

/** `opencph serve` in a process of its own, on a store of its own, stopped after the file's tests. */
function servePerFile(args: string[], env: Record<string, string> = {}): () => number {
  let child: ChildNode;
  let port = 0;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = makeDataDir();
    const database = await storeOf(dataDir);
    child = await startChild(['--data-dir', dataDir, ...(database ? ['--database', database] : []), '--servers', '1', '--phones-per-server', '1', ...args], env);
    port = Number(new URL(child.url).port);
  });
  afterAll(async () => {
    child.proc.kill('SIGTERM');
    await child.exited;
    await removeDataDir(dataDir);
  });
  return () => port;
}

describe('opencph serve', () => {
  const port = servePerFile(['--request-timeout', '600', '--headers-timeout', '300'], { OPENCPH_KEEP_ALIVE_TIMEOUT_MS: '300' });

  it('takes its time-outs from flags and the environment', async () => {
    expectCphError(parseAnswer(await untilServerCloses(port(), (s) => s.write(`${stalledHead}{`))), 408, 'APIGW.0201');
    expectCphError(parseAnswer(await untilServerCloses(port(), (s) => s.write(`GET /v1/${PROJECT}/cloud-phone/phones HTTP/1.1\r\nHost: 1`))), 408, 'APIGW.0201');
    const idle = parseAnswer(await untilServerCloses(port(), (s) => s.write('GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')));
    expectCphError(idle, 404, 'APIGW.0101');
    expect(idle.headers['keep-alive']).toBe('timeout=0');
  });
});

describe.each(['off', 'verify'] as const)('a body over the limit (auth %s)', (auth) => {
  // The server in a process of its own: the client below holds up its own event loop.
  const port = servePerFile(['--auth', auth]);

  it('is answered 413 with Connection: close, and every client reads that answer', async () => {
    // 2 MiB, as clients send it; 8 MiB more than loopback's socket buffers hold, so the client is
    // still writing when the answer comes.
    for (const bytes of [2 * 1024 * 1024, 8 * 1024 * 1024]) {
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await postBody(port(), bytes);
        seen.push(r.error ?? `${r.status} ${r.connection} ${r.body?.error_code}`);
        if (r.body) expect(r.body.request_id).toMatch(/^[0-9a-f]{32}$/);
      }
      expect(seen).toEqual(Array(20).fill('413 close APIGW.0201'));
    }
  });
});
