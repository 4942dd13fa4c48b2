import { spawnSync } from 'node:child_process';
import fs, { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAccessKey } from '../../src/auth/admin.js';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { ACCESS_FLUSH_MS, createAccessLog } from '../../src/runtime/log.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { getToken, passwordAuth, send, sendSigned, sendWithToken } from '../helpers/http.js';
import { captureLog } from '../helpers/log.js';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';

/** Everything the node logs, at the most verbose level, captured through its real logger setup. */
const capture = () => captureLog('trace');

describe('logs are free of secrets', () => {
  const log = capture();
  let t: TestNode;
  let node: RunningNode;
  const secrets: string[] = [DEFAULTS.defaultSk, DEFAULTS.defaultPassword];

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1, logLevel: 'trace' }, { logger: log.logger });
    node = t.node;
  });
  afterAll(() => t.close());

  it('after tokens, signatures, failures and admin actions, no credential appears in any log line', async () => {
    const phones = `/v1/${DEFAULT_PROJECT_ID}/cloud-phone/phones`;
    const login = passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID });
    const { token } = await getToken(node.port, login);
    secrets.push(token!);
    expect((await sendWithToken(node.port, token!, 'GET', phones)).status).toBe(200);
    expect((await send(node.port, 'GET', '/v3/auth/tokens', { 'X-Auth-Token': token!, 'X-Subject-Token': token! })).status).toBe(200);

    const signed = await sendSigned(node.port, { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, 'POST', `${phones}/batch-stop`, { body: { phone_ids: ['x'] } });
    expect(signed.status).toBe(200);
    const wrongPassword = 'Wrong#Password-123';
    secrets.push(wrongPassword);
    expect((await getToken(node.port, passwordAuth(DEFAULTS.defaultUser, wrongPassword, DEFAULTS.defaultAccount, { id: DEFAULT_PROJECT_ID }))).status).toBe(401);
    const badBody = { auth: { identity: { methods: ['password'], password: { user: { name: 'x', password: 'Body#Secret-456' } } } } };
    secrets.push('Body#Secret-456');
    expect((await getToken(node.port, badBody)).status).toBe(400);

    const key = await createAccessKey({ db: node.handle.db, clock: { now: () => Date.now() }, ids: newId }, { account: DEFAULTS.defaultAccount, user: DEFAULTS.defaultUser });
    secrets.push(key.sk);
    expect((await sendSigned(node.port, key, 'GET', phones)).status).toBe(200);
    const forged = await sendSigned(node.port, { ak: key.ak, sk: 'forged-secret' }, 'GET', phones);
    expect(forged.status).toBe(401);
    expect((await sendWithToken(node.port, 'made-up-token-value-789', 'GET', phones)).status).toBe(401);
    secrets.push('made-up-token-value-789');

    const text = log.text();
    expect(text).toContain('"msg":"request"');
    expect(text).toContain('/v3/auth/tokens');
    for (const secret of secrets) expect(text, 'a secret was logged').not.toContain(secret);
    expect(text).not.toMatch(/Signature=[0-9a-f]{64}/);
    expect(text.toLowerCase()).not.toContain('sdk-hmac-sha256 access=');
  });

  it('redacts credential headers and secret fields if anything ever logs them', () => {
    const l = capture();
    l.logger.info({
      req: { headers: { authorization: 'SDK-HMAC-SHA256 Access=A, SignedHeaders=host, Signature=abc', 'x-auth-token': 'tok-1', 'x-subject-token': 'tok-2' } },
      user: { password: 'pw-1' },
      key: { sk: 'sk-1', secret_key: 'sk-2' },
      password: 'pw-2',
    });
    const text = l.text();
    for (const s of ['Signature=abc', 'tok-1', 'tok-2', 'pw-1', 'pw-2', 'sk-1', 'sk-2']) expect(text).not.toContain(s);
    expect(text).toContain('[redacted]');
  });
});

describe('the lines a request logs', () => {
  it('carry its request id', async () => {
    const log = capture();
    const failing = { authenticate: async () => Promise.reject(new Error('the identity store is gone')) };
    const t = await startTestNode({ logLevel: 'info' }, { logger: log.logger, authenticator: failing });
    try {
      const r = await t.get('/phones');
      expect([r.status, r.body.error_code]).toEqual([500, 'CPS.0003']);
      const lines = log.text().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const failed = lines.find((l) => l.msg === 'request failed');
      expect(failed?.reqId).toBe(r.headers['x-request-id']);
      expect(failed?.err?.message).toBe('the identity store is gone');
    } finally {
      await t.close();
    }
  });
});

describe('request log lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opencph-access-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const linesOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  const line = (i: number) => ({ reqId: `r${i}`, method: 'GET', path: '/v1/x', status: 200, ms: 0.1 });

  const toFile = (name: string, log = pino({ level: 'info' })) => {
    const file = join(dir, name);
    return { file, access: createAccessLog(log, openSync(file, 'a')) };
  };

  it('to a file are written in blocks, not one write per line, and all of them on close', async () => {
    const { file, access } = toFile('blocks.log');
    const writes = vi.spyOn(fs, 'writeSync');
    try {
      // One line per turn of the event loop, as requests come: each could have been written alone.
      for (let i = 0; i < 5; i++) {
        access.write(line(i));
        await new Promise((r) => setTimeout(r, 10));
      }
      access.close();
      expect(linesOf(file).map((l) => JSON.parse(l).reqId)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
      // One block (or two, if the periodic write came between the lines), and perhaps an empty write.
      const blocks = writes.mock.calls.filter((c) => String(c[1]).includes('"msg":"request"'));
      expect(blocks.length).toBeGreaterThanOrEqual(1);
      expect(blocks.length).toBeLessThanOrEqual(2);
      // After the close, a line is written as it comes.
      access.write(line(5));
      expect(linesOf(file)).toHaveLength(6);
    } finally {
      writes.mockRestore();
    }
  });

  it('to a file are the lines the node logger would write, quotes, backslashes and control characters included', () => {
    const { file, access } = toFile('format.log');
    const log = capture();
    const lines = log.logger.child({}, { redact: [] });
    const entries = [
      line(0),
      { reqId: newId(), method: 'POST', path: '/v1/x?q="quoted"&b=\\back\\slash', status: 404, ms: 12.5 },
      { reqId: newId(), method: 'GET', path: '/ctl\u0001\u001f\ttab\u007f/é/\u2028/😀', status: 500, ms: 0 },
    ];
    for (const e of entries) {
      access.write(e);
      lines.info(e, 'request');
    }
    access.close();
    const withoutTime = (text: string) => text.split('\n').filter(Boolean).map((l) => l.replace(/"time":\d+,/, ''));
    expect(withoutTime(readFileSync(file, 'utf8'))).toEqual(withoutTime(log.text()));
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[2]!).path).toBe(entries[2]!.path);
  });

  it('to a file are written whole when the file takes a block in parts', () => {
    const { file, access } = toFile('short.log');
    const write = fs.writeSync;
    // The first write takes only part of what it is given, as a file near its size limit does.
    let first = true;
    const writes = vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, buffer: Buffer, at?: number | null) => {
      const offset = at ?? 0;
      const length = first ? 100 : buffer.length - offset;
      first = false;
      return write(fd, buffer, offset, length);
    }) as typeof fs.writeSync);
    try {
      for (let i = 0; i < 5; i++) access.write(line(i));
      access.close();
      expect(writes.mock.calls.length).toBeGreaterThan(1);
      expect(linesOf(file).map((l) => JSON.parse(l).reqId)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    } finally {
      writes.mockRestore();
    }
  });

  it('that cannot be written are dropped, said once in the node log, and the node goes on', () => {
    const file = join(dir, 'closed.log');
    const fd = openSync(file, 'a');
    const log = capture();
    const access = createAccessLog(log.logger, fd);
    fs.closeSync(fd);
    access.write(line(0));
    access.close();
    access.write(line(1));
    const errors = log.text().split('\n').filter((l) => l.includes('request lines could not be written'));
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0]!).err.code).toBe('EBADF');
  });

  it('to a file reach it within a moment on a quiet node', async () => {
    const { file, access } = toFile('quiet.log');
    access.write(line(0));
    const lines = await waitFor(async () => (linesOf(file).length > 0 ? linesOf(file) : undefined), ACCESS_FLUSH_MS * 8, 20);
    access.close();
    expect(lines.map((l) => JSON.parse(l).reqId)).toEqual(['r0']);
  });

  it('to a pipe are written as the turn ends, in writes of whole lines of at most 4 KiB', () => {
    const log = fileURLToPath(new URL('../../dist/runtime/log.js', import.meta.url));
    // The child's stdout is a pipe to this process; it reports the sizes of its writes to it on stderr.
    const script = `const fs = (await import('node:fs')).default;
      const { createAccessLog, createLogger } = await import(${JSON.stringify(log)});
      const sizes = [];
      const write = fs.writeSync;
      fs.writeSync = (fd, ...rest) => { const n = write(fd, ...rest); if (fd === 1) sizes.push(n); return n; };
      const access = createAccessLog(createLogger('info'), 1);
      for (let i = 0; i < 200; i++) access.write({ reqId: 'r' + i, method: 'GET', path: '/v1/' + 'x'.repeat(i % 50), status: 200, ms: 1 });
      const inTurn = sizes.length;
      await new Promise((r) => setImmediate(r));
      access.write({ reqId: 'r200', method: 'GET', path: '/', status: 200, ms: 1 });
      await new Promise((r) => setImmediate(r));
      process.stderr.write(JSON.stringify({ inTurn, sizes }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const { inTurn, sizes } = JSON.parse(child.stderr) as { inTurn: number; sizes: number[] };
    expect(inTurn).toBe(0);
    const lines = child.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reqId)).toEqual(Array.from({ length: 201 }, (_, i) => `r${i}`));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(Buffer.byteLength(child.stdout));
    for (const n of sizes) expect(n).toBeLessThanOrEqual(4096);
    // Whole lines in every write, and far fewer writes than lines.
    let at = 0;
    for (const n of sizes) expect(child.stdout[(at += n) - 1]).toBe('\n');
    expect(sizes.length).toBeLessThan(30);
  });

  it('are not written at a level above info', () => {
    const { file, access } = toFile('quiet-level.log', pino({ level: 'warn' }));
    access.write(line(0));
    access.close();
    expect(linesOf(file)).toEqual([]);
  });

  it('to a file are all written when the process exits, normally or on an uncaught error', async () => {
    const log = fileURLToPath(new URL('../../dist/runtime/log.js', import.meta.url));
    for (const [name, end] of [
      ['exit', 'process.exit(0)'],
      ['throw', "setImmediate(() => { throw new Error('boom'); })"],
    ]) {
      const file = join(dir, `${name}.log`);
      const script = `const { createAccessLog, createLogger } = await import(${JSON.stringify(log)});
        const { openSync } = await import('node:fs');
        const access = createAccessLog(createLogger('info'), openSync(${JSON.stringify(file)}, 'a'));
        for (let i = 0; i < 100; i++) access.write({ reqId: 'r' + i, method: 'GET', path: '/', status: 200, ms: 1 });
        ${end};`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(child.status, child.stderr).toBe(name === 'exit' ? 0 : 1);
      expect(linesOf(file)).toHaveLength(100);
    }
  });
});
