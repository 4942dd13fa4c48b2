import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { PROJECT, startTestNode, type TestNode } from '../helpers/node.js';
import { send, sendSigned, type Key, type Reply } from '../helpers/http.js';
import { exchange, type RawAnswer } from '../helpers/raw.js';

const KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const CPH = `/v1/${PROJECT}/cloud-phone`;

/** `{request_id, error_code, error_msg}` and nothing else, request_id equal to X-Request-Id. */
function expectCphError(r: Reply | RawAnswer, status: number, code: string) {
  const body = r.body;
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(body ?? {}).sort(), r.text).toEqual(['error_code', 'error_msg', 'request_id']);
  expect(body.error_code, r.text).toBe(code);
  expect(body.request_id).toMatch(/^[0-9a-f]{32}$/);
  expect(r.headers['x-request-id']).toBe(body.request_id);
}

const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

describe('a signed call whose body is not JSON', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1 });
  });
  afterAll(() => t.close());

  it('answers 415 before the signature is checked, and counts nothing against the key', async () => {
    // More than the 5 failures that lock a key.
    for (let i = 0; i < 7; i++) {
      const r = await sendSigned(t.node.port, KEY, 'POST', `${CPH}/phones/batch-stop`, { body: 'phone_ids=1', headers: { 'content-type': 'text/plain' } });
      expectCphError(r, 415, 'APIGW.0201');
    }
    const ok = await sendSigned(t.node.port, KEY, 'GET', `${CPH}/phones`);
    expect(ok.status, ok.text).toBe(200);
    const stop = await sendSigned(t.node.port, KEY, 'POST', `${CPH}/phones/batch-stop`, { body: { phone_ids: [ok.body.phones[0].phone_id] } });
    expect(stop.status, stop.text).toBe(200);
  });

  it('answers 415 to other text types and to a body with no content type', async () => {
    const target = `${CPH}/phones/batch-stop`;
    for (const type of ['text/plain; charset=utf-8', 'text/html', 'application/octet-stream']) {
      expectCphError(await sendSigned(t.node.port, KEY, 'POST', target, { body: { phone_ids: ['a'] }, headers: { 'content-type': type } }), 415, 'APIGW.0201');
    }
    expectCphError(await exchange(t.node.port, `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`), 415, 'APIGW.0201');
  });
});

describe.each(['off', 'verify'] as const)('numbers in query strings parse strictly (auth %s)', (auth) => {
  let t: TestNode;
  const call = (target: string) => (auth === 'verify' ? sendSigned(t.node.port, KEY, 'GET', target) : send(t.node.port, 'GET', target));
  beforeAll(async () => {
    t = await startTestNode({ auth, servers: 1, phonesPerServer: 2 });
  });
  afterAll(() => t.close());

  const NOT_NUMBERS = ['1e19', '1e2', 'Infinity', '-Infinity', 'NaN', '0x10', '0b1', '0o7', '%2010', '10%20', '%0910', '+1', '1.0', '1.5', '', '1_0', '%EF%BC%91'];
  const lists = () => [`${CPH}/phones`, `${CPH}/servers`, `${CPH}/jobs?request_id=${newId()}`];
  const withParam = (list: string, param: string) => `${list}${list.includes('?') ? '&' : '?'}${param}`;

  it('answers offset and limit that are not plain decimal integers in range with 400 CPS.0002, on every list', async () => {
    for (const list of lists()) {
      for (const value of [...NOT_NUMBERS, '-1', '9007199254740992', '99999999999999999999']) {
        expectCphError(await call(withParam(list, `offset=${value}`)), 400, 'CPS.0002');
      }
      for (const value of [...NOT_NUMBERS, '0', '-1', '201', '9007199254740992']) {
        expectCphError(await call(withParam(list, `limit=${value}`)), 400, 'CPS.0002');
      }
    }
  });

  it('takes plain decimal integers up to 2^53−1', async () => {
    for (const list of lists()) {
      for (const param of ['offset=0', 'offset=007', 'offset=9007199254740991', 'limit=1', 'limit=100']) {
        const r = await call(withParam(list, param));
        expect(r.status, `${list} ${param}: ${r.text}`).toBe(200);
      }
    }
    const page = await call(`${CPH}/phones?offset=1&limit=1`);
    expect(page.body.count).toBe(2);
    expect(page.body.phones).toHaveLength(1);
    const past = await call(`${CPH}/servers?offset=9007199254740991`);
    expect(past.body.servers).toEqual([]);
  });

  it('answers other number fields that are not plain decimal integers with their own code', async () => {
    for (const value of ['0x2', '2e0', '2.0', 'Infinity', '%202', '99999999999999999999']) {
      expectCphError(await call(`${CPH}/phones?status=${value}`), 400, 'CPS.0010');
      expectCphError(await call(`${CPH}/servers?status=${value}`), 400, 'CPS.0010');
      expectCphError(await call(`${CPH}/phones?type=${value}`), 400, 'CPS.0034');
      expectCphError(await call(`${CPH}/servers?create_since=${value}`), 400, 'CPS.0034');
      expectCphError(await call(`${CPH}/servers?create_until=${value}`), 400, 'CPS.0034');
    }
    expect((await call(`${CPH}/phones?status=2&type=0`)).status).toBe(200);
    const since = await call(`${CPH}/servers?create_since=0&create_until=9007199254740991`);
    expect(since.status, since.text).toBe(200);
    expect(since.body.count).toBe(1);
  });
});

describe.each(['off', 'verify'] as const)('answers made outside the routes are in CPH format (auth %s)', (auth) => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ auth, servers: 1, phonesPerServer: 1 });
  });
  afterAll(() => t.close());

  it('answers a path that is not valid percent-encoded UTF-8 with 400 APIGW.0201', async () => {
    for (const bad of ['%FF', '%C0%AF', '%', '%zz', '%E2%82', 'a%00%FF']) {
      expectCphError(await exchange(t.node.port, get(`${CPH}/phones/${bad}`)), 400, 'APIGW.0201');
      expectCphError(await exchange(t.node.port, get(`${CPH}/servers/${bad}`)), 400, 'APIGW.0201');
      expectCphError(await exchange(t.node.port, get(`/v1/${bad}/cloud-phone/phones`)), 400, 'APIGW.0201');
      expectCphError(await exchange(t.node.port, get(`/v1/${PROJECT}${bad}/cloud-phone/jobs`)), 400, 'APIGW.0201');
    }
  });

  it('answers a path id past 8192 characters with 414 APIGW.0201', async () => {
    expectCphError(await exchange(t.node.port, get(`${CPH}/phones/${'a'.repeat(8193)}`)), 414, 'APIGW.0201');
    expectCphError(await exchange(t.node.port, get(`/v1/${'a'.repeat(9000)}/cloud-phone/phones`)), 414, 'APIGW.0201');
  });

  it('answers a method no route takes with 405 (and Allow) on a known path, 404 elsewhere, whatever its body', async () => {
    const query = await exchange(t.node.port, `QUERY ${CPH}/phones HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expectCphError(query, 405, 'APIGW.0101');
    expect(query.headers['allow']).toBe('GET');
    const withBody = await exchange(t.node.port, `QUERY ${CPH}/phones HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`);
    expectCphError(withBody, 405, 'APIGW.0101');
    for (const method of ['PROPFIND', 'OPTIONS', 'DELETE', 'PATCH']) {
      const r = await exchange(t.node.port, `${method} ${CPH}/phones/batch-stop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"a":`);
      expectCphError(r, 405, 'APIGW.0101');
      expect(r.headers['allow']?.split(', ')).toContain('POST');
    }
    expectCphError(await exchange(t.node.port, `QUERY /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`), 404, 'APIGW.0101');
    expectCphError(await exchange(t.node.port, `POST /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`), 404, 'APIGW.0101');
  });

  it('answers what node:http refuses (malformed requests, headers too large) in CPH format and closes', async () => {
    expectCphError(await exchange(t.node.port, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'APIGW.0201');
    expectCphError(await exchange(t.node.port, `GET ${CPH}/phones HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n`), 400, 'APIGW.0201');
    expectCphError(await exchange(t.node.port, `GET ${CPH}/phones HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'APIGW.0201');
  });
});

describe('text holding U+0000', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1 });
  });
  afterAll(() => t.close());

  it('is refused naming its field, in a query, a body string, a body array or a key, before the store sees it', async () => {
    const call = (method: string, target: string, body?: unknown) => sendSigned(t.node.port, KEY, method, target, { body });
    const named = (r: Reply, field: string) => {
      expectCphError(r, 400, r.body.error_code);
      expect(r.body.error_msg).toContain(field);
    };
    // A substring filter is where PostgreSQL would meet it first.
    expectCphError(await call('GET', `${CPH}/servers?server_name=a%00b`), 400, 'CPS.0034');
    named(await call('GET', `${CPH}/servers?server_name=%00`), 'server_name');
    named(await call('GET', `${CPH}/phones?phone_name=%00`), 'phone_name');
    const phone = (await call('GET', `${CPH}/phones`)).body.phones[0].phone_id as string;
    named(await call('PUT', `${CPH}/phones/${phone}`, { phone_name: 'a\u0000b' }), 'phone_name');
    named(await call('POST', `${CPH}/phones-traffic`, { traffic_type: 'direct', phone_ids: [phone, 'x\u0000'] }), 'phone_id');
    const key = await call('POST', `${CPH}/phones/batch-stop`, { phone_ids: [phone], ['a\u0000']: 1 });
    expectCphError(key, 400, key.body.error_code);
    // The phone was never touched.
    expect((await call('GET', `${CPH}/phones/${phone}`)).body.status).toBe(2);
  });
});

describe('a body nested deeper than the call stack', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 1 });
  });
  afterAll(() => t.close());

  it('answers 400, not 500: the U+0000 check walks it without recursion', async () => {
    // AddImageMember's body schema leaves other properties open, so the nesting reaches that check.
    const depth = 100_000;
    const body = `{"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    const r = await t.send('POST', `${CPH}/images/${'0'.repeat(32)}/members`, { body, headers: { 'content-type': 'application/json' } });
    expectCphError(r, 400, r.body.error_code);
  });
});
