import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { PROJECT, startTestNode, type TestNode } from '../helpers/node.js';
import { send, sendSigned, type Key, type Reply } from '../helpers/http.js';

const KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const CPH = `/v1/${PROJECT}/cloud-phone`;

/** `{request_id, error_code, error_msg}` and nothing else, request_id equal to X-Request-Id. */
function expectCphError(r: Reply, status: number, code: string) {
  const body = r.json;
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(body ?? {}).sort(), r.text).toEqual(['error_code', 'error_msg', 'request_id']);
  expect(body.error_code, r.text).toBe(code);
  expect(body.request_id).toMatch(/^[0-9a-f]{32}$/);
  expect(r.headers['x-request-id']).toBe(body.request_id);
}

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
    expect(page.json.count).toBe(2);
    expect(page.json.phones).toHaveLength(1);
    const past = await call(`${CPH}/servers?offset=9007199254740991`);
    expect(past.json.servers).toEqual([]);
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
    expect(since.json.count).toBe(1);
  });
});
