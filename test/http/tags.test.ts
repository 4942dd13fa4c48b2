import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient, HttpRequestOptions } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { deleteTagsOf } from '../../src/store/tags.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { PROJECT, startTestNode, type TestNode } from '../helpers/node.js';

/** The five tag operations of cph-api.md §3.10 over signed HTTP, on the suite's store. */

const KEY: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const BASE = `/v1/${PROJECT}/cph-server`;

describe('tags of servers', () => {
  let t: TestNode;
  /** Newest first, as ListCloudPhoneServers shows them. */
  let servers: { server_id: string; server_name: string }[];
  const call = (method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, KEY, method, `${BASE}${path}`, { body });
  const action = (serverId: string, act: string, tags: unknown) => call('POST', `/${serverId}/tags/action`, { action: act, tags });
  const tagsOf = async (serverId: string) => {
    const r = await call('GET', `/${serverId}/tags`);
    expect(r.status, r.text).toBe(200);
    return r.body.tags;
  };
  const instances = (body: unknown) => call('POST', '/resource_instances/action', body);
  const expectError = (r: Reply, status: number, code: string, msg?: string) => {
    expect(r.status, r.text).toBe(status);
    expect(r.body.error_code, r.text).toBe(code);
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
    if (msg) expect(r.body.error_msg).toContain(msg);
  };

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 4, phonesPerServer: 1 });
    servers = (await sendSigned(t.node.port, KEY, 'GET', `/v1/${PROJECT}/cloud-phone/servers`)).body.servers;
    expect(servers).toHaveLength(4);
  });
  afterAll(() => t.close());

  it('creates tags with 204 and an empty body, replaces the value of a key, lists them by key', async () => {
    const s = servers[0]!.server_id;
    expect(await tagsOf(s)).toEqual([]);
    const r = await action(s, 'create', [
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'Ωmega 团队' },
    ]);
    expect(r.status, r.text).toBe(204);
    expect(r.text).toBe('');
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect((await action(s, 'create', [{ key: 'env', value: 'staging' }])).status).toBe(204);
    const list = await call('GET', `/${s}/tags`);
    expect(list.body).toEqual({ tags: [{ key: 'env', value: 'staging' }, { key: 'team', value: 'Ωmega 团队' }] });
    expect(list.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('deletes by key, or by key and value when the value is given; a tag not there is no error', async () => {
    const s = servers[1]!.server_id;
    await action(s, 'create', [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'c', value: '3' },
    ]);
    expect((await action(s, 'delete', [{ key: 'a', value: 'not-1' }])).status).toBe(204);
    expect((await tagsOf(s)).map((x: any) => x.key)).toEqual(['a', 'b', 'c']);
    expect((await action(s, 'delete', [{ key: 'a', value: '1' }, { key: 'b' }, { key: 'c', value: '' }, { key: 'never' }])).status).toBe(204);
    expect(await tagsOf(s)).toEqual([]);
  });

  it('answers the official SDK core: a 204 it reads as no body, the tags as it sent them', async () => {
    const credentials = new BasicCredentials().withAk(KEY.ak).withSk(KEY.sk).withProjectId(PROJECT);
    const hc = new ClientBuilder<HcClient>((c) => c).withCredential(credentials).withEndpoint(t.url).build();
    const pathParams = { resource_type: 'cph-server', resource_id: servers[0]!.server_id };
    const request = (method: string, url: string, data?: object): HttpRequestOptions => ({ method, url, contentType: 'application/json', queryParams: {}, pathParams, headers: {}, ...(data ? { data } : {}) });
    const created = await hc.sendRequest<object>(request('POST', '/v1/{project_id}/{resource_type}/{resource_id}/tags/action', { action: 'create', tags: [{ key: 'sdk', value: 'yes' }] }));
    expect(created).toEqual({ httpStatusCode: 204 });
    const listed = await hc.sendRequest<{ httpStatusCode: number; tags: unknown[] } & object>(request('GET', '/v1/{project_id}/{resource_type}/{resource_id}/tags'));
    expect(listed.tags).toContainEqual({ key: 'sdk', value: 'yes' });
    expect((await action(servers[0]!.server_id, 'delete', [{ key: 'sdk', value: 'yes' }])).status).toBe(204);
  });

  it('holds keys and values to their limits', async () => {
    const s = servers[2]!.server_id;
    const ok = async (tag: unknown) => expect((await action(s, 'create', [tag])).status, JSON.stringify(tag)).toBe(204);
    const bad = async (tag: unknown, field: string) => expectError(await action(s, 'create', [tag]), 400, 'CPS.0034', `Parameter: ${field} is invalid.`);
    await ok({ key: 'k'.repeat(127), value: 'v'.repeat(255) });
    await ok({ key: '键'.repeat(127), value: '值'.repeat(255) });
    await ok({ key: 'a b_.:=+-@9', value: 'x y_.:=+-@0' });
    await ok({ key: 'sys_ok', value: 'v' });
    await bad({ key: 'k'.repeat(128), value: 'v' }, 'key');
    await bad({ key: '', value: 'v' }, 'key');
    await bad({ key: ' lead', value: 'v' }, 'key');
    await bad({ key: 'trail ', value: 'v' }, 'key');
    await bad({ key: '_sys_x', value: 'v' }, 'key');
    await bad({ key: 'a/b', value: 'v' }, 'key');
    await bad({ key: 'a#b', value: 'v' }, 'key');
    await bad({ key: 'k', value: 'v'.repeat(256) }, 'value');
    await bad({ key: 'k', value: '' }, 'value');
    await bad({ key: 'k' }, 'value');
    await bad({ key: 'k', value: ' v' }, 'value');
    await bad({ key: 'k', value: 'v ' }, 'value');
    await bad({ key: 'k', value: 'a,b' }, 'value');
    await bad({ key: 1, value: 'v' }, 'key');
    expectError(await action(s, 'create', [{ key: 'd', value: '1' }, { key: 'd', value: '2' }]), 400, 'CPS.0034', 'Parameter: tags is invalid.');
    expectError(await action(s, 'create', []), 400, 'CPS.0034', 'Parameter: tags is invalid.');
    expectError(await call('POST', `/${s}/tags/action`, { action: 'create' }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
    expectError(await action(s, 'delete', [{ key: '' }]), 400, 'CPS.0034', 'Parameter: key is invalid.');
    // Nothing of the refused calls was written.
    expect((await tagsOf(s)).map((x: any) => x.key).sort()).toEqual(['a b_.:=+-@9', 'k'.repeat(127), 'sys_ok', '键'.repeat(127)].sort());
  });

  it('caps a server at 20 tags, counting keys it has and keys it is given', async () => {
    const s = servers[3]!.server_id;
    const tags = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: 'v' }));
    expectError(await action(s, 'create', tags(0, 21)), 400, 'CPS.0950');
    expect(await tagsOf(s)).toEqual([]);
    expect((await action(s, 'create', tags(0, 18))).status).toBe(204);
    expectError(await action(s, 'create', tags(17, 4)), 400, 'CPS.0950', 'at most 20 tags');
    // Keys it has already only take new values: 18 + k18, k19 = 20.
    expect((await action(s, 'create', tags(16, 4))).status).toBe(204);
    expect(await tagsOf(s)).toHaveLength(20);
    expectError(await action(s, 'create', tags(20, 1)), 400, 'CPS.0950');
    expect((await action(s, 'create', tags(0, 20))).status).toBe(204);
    expect((await action(s, 'delete', tags(0, 20))).status).toBe(204);
  });

  it('answers a bad action with CPS.0047, an unknown server with 404 CPS.0016, a malformed id with 400 CPS.0016', async () => {
    const s = servers[0]!.server_id;
    for (const act of ['add', 'Create', '', 'filter']) expectError(await action(s, act, [{ key: 'x', value: 'y' }]), 400, 'CPS.0047', 'Parameter: action is invalid.');
    expectError(await call('POST', `/${s}/tags/action`, { tags: [{ key: 'x', value: 'y' }] }), 400, 'CPS.0047');
    expectError(await call('POST', `/${s}/tags/action`, { action: 1, tags: [{ key: 'x', value: 'y' }] }), 400, 'CPS.0047');
    const unknown = 'f'.repeat(32);
    expectError(await action(unknown, 'create', [{ key: 'x', value: 'y' }]), 404, 'CPS.0016');
    expectError(await action(unknown, 'delete', [{ key: 'x' }]), 404, 'CPS.0016');
    expectError(await call('GET', `/${unknown}/tags`), 404, 'CPS.0016');
    expectError(await call('GET', `/${'f'.repeat(33)}/tags`), 400, 'CPS.0016');
  });

  it('answers any other resource type as an API that does not exist', async () => {
    const s = servers[0]!.server_id;
    for (const type of ['cph-phone', 'CPH-SERVER', 'cloud-phone', 'ecs']) {
      for (const [method, path, body] of [
        ['GET', `/${s}/tags`],
        ['POST', `/${s}/tags/action`, { action: 'create', tags: [{ key: 'x', value: 'y' }] }],
        ['GET', '/tags'],
        ['POST', '/resource_instances/action', { action: 'count' }],
      ] as const) {
        const r = await sendSigned(t.node.port, KEY, method, `/v1/${PROJECT}/${type}${path}`, { body });
        expectError(r, 404, 'APIGW.0101');
      }
    }
    expect(await tagsOf(s)).not.toContainEqual({ key: 'x', value: 'y' });
  });

  describe('with tagged servers', () => {
    // servers[0]: env=prod, team=a; [1]: env=dev, team=b; [2]: env=prod; [3]: none.
    beforeAll(async () => {
      for (const s of servers) {
        const current = await tagsOf(s.server_id);
        if (current.length) expect((await action(s.server_id, 'delete', current.map((x: any) => ({ key: x.key })))).status).toBe(204);
      }
      await action(servers[0]!.server_id, 'create', [{ key: 'env', value: 'prod' }, { key: 'team', value: 'a' }]);
      await action(servers[1]!.server_id, 'create', [{ key: 'env', value: 'dev' }, { key: 'team', value: 'b' }]);
      await action(servers[2]!.server_id, 'create', [{ key: 'env', value: 'prod' }]);
    });
    const ids = (r: Reply) => r.body.resources.map((x: any) => x.resource_id);
    const pick = (...i: number[]) => i.map((n) => servers[n]!.server_id);

    it('lists the project tags: keys with their values, paged by limit/offset, total_count of keys', async () => {
      const r = await call('GET', '/tags');
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ tags: [{ key: 'env', values: ['dev', 'prod'] }, { key: 'team', values: ['a', 'b'] }], total_count: 2 });
      expect((await call('GET', '/tags?limit=1&offset=1')).body).toEqual({ tags: [{ key: 'team', values: ['a', 'b'] }], total_count: 2 });
      expect((await call('GET', '/tags?offset=5')).body).toEqual({ tags: [], total_count: 2 });
      for (const q of ['limit=0', 'limit=101', 'offset=-1', 'limit=x', 'offset=1e2']) expectError(await call('GET', `/tags?${q}`), 400, 'CPS.0002');
      expect((await call('GET', '/tags?limit=100')).status).toBe(200);
    });

    it('filters servers: keys ANDed, values ORed, no values = any value', async () => {
      const all = await instances({ action: 'filter' });
      expect(all.status, all.text).toBe(200);
      expect(all.body.total_count).toBe(4);
      expect(ids(all)).toEqual(servers.map((s) => s.server_id));
      const first = all.body.resources[0];
      expect(first).toEqual({ resource_id: servers[0]!.server_id, resource_detail: '', resource_name: servers[0]!.server_name, tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'a' }] });
      expect(all.body.request_id).toBeUndefined();

      expect(ids(await instances({ action: 'filter', tags: [{ key: 'env', values: ['prod'] }] }))).toEqual(pick(0, 2));
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'env', values: ['prod', 'dev'] }] }))).toEqual(pick(0, 1, 2));
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'env', values: [] }] }))).toEqual(pick(0, 1, 2));
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'team' }] }))).toEqual(pick(0, 1));
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'env', values: ['prod'] }, { key: 'team', values: [] }] }))).toEqual(pick(0));
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'env', values: ['prod'] }, { key: 'team', values: ['b'] }] }))).toEqual([]);
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'nope' }] }))).toEqual([]);
    });

    it('finds untagged servers (without_any_tag, which makes tags moot) and matches resource_name exactly', async () => {
      expect(ids(await instances({ action: 'filter', without_any_tag: true }))).toEqual(pick(3));
      expect(ids(await instances({ action: 'filter', without_any_tag: true, tags: [{ key: 'env' }] }))).toEqual(pick(3));
      expect(ids(await instances({ action: 'filter', without_any_tag: false, tags: [{ key: 'env' }] }))).toEqual(pick(0, 1, 2));
      const name = servers[1]!.server_name;
      expect(ids(await instances({ action: 'filter', matches: [{ key: 'resource_name', value: name }] }))).toEqual(pick(1));
      expect(ids(await instances({ action: 'filter', matches: [{ key: 'resource_name', value: name.slice(0, -1) }] }))).toEqual([]);
      expect(ids(await instances({ action: 'filter', matches: [{ key: 'resource_name', value: name }], tags: [{ key: 'env', values: ['prod'] }] }))).toEqual([]);
      expect((await instances({ action: 'count', matches: [{ key: 'resource_name', value: name }] })).body).toEqual({ total_count: 1 });
      expectError(await instances({ action: 'filter', matches: [{ key: 'server_id', value: 'x' }] }), 400, 'CPS.0034', 'Parameter: matches is invalid.');
    });

    it('pages with offset and limit as strings (filter only), counts with count', async () => {
      const page = await instances({ action: 'filter', offset: '1', limit: '2' });
      expect(ids(page)).toEqual(pick(1, 2));
      expect(page.body.total_count).toBe(4);
      expect(ids(await instances({ action: 'filter', offset: '3', limit: '1000' }))).toEqual(pick(3));
      expect(ids(await instances({ action: 'filter', offset: '0', limit: '1' }))).toEqual(pick(0));
      expect((await instances({ action: 'filter', offset: '9' })).body).toEqual({ resources: [], total_count: 4 });
      for (const p of [{ limit: '0' }, { limit: '1001' }, { offset: '-1' }, { limit: 'x' }, { offset: '' }, { limit: '1e3' }, { limit: 10 }, { offset: 0 }, { limit: ' 5' }]) {
        expectError(await instances({ action: 'filter', ...p }), 400, 'CPS.0002');
      }
      const count = await instances({ action: 'count', tags: [{ key: 'env', values: ['prod'] }] });
      expect(count.status, count.text).toBe(200);
      expect(count.body).toEqual({ total_count: 2 });
      // offset/limit belong to filter: count does not read them.
      expect((await instances({ action: 'count', limit: 'x' })).body).toEqual({ total_count: 4 });
      expect((await instances({ action: 'count', without_any_tag: true })).body).toEqual({ total_count: 1 });
    });

    it('holds the filter to its limits: 10 keys, 10 values each, keys unique and non-empty; action filter or count', async () => {
      const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, values: [] }));
      expect((await instances({ action: 'count', tags: keys(10) })).body).toEqual({ total_count: 0 });
      expectError(await instances({ action: 'count', tags: keys(11) }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
      const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
      expect((await instances({ action: 'count', tags: [{ key: 'env', values: values(10) }] })).status).toBe(200);
      expectError(await instances({ action: 'count', tags: [{ key: 'env', values: values(11) }] }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
      expectError(await instances({ action: 'count', tags: [{ key: 'env', values: ['a', 'a'] }] }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
      expectError(await instances({ action: 'count', tags: [{ key: 'env' }, { key: 'env' }] }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
      expectError(await instances({ action: 'count', tags: [{ key: '' }] }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
      expectError(await instances({ action: 'count', tags: [{ values: ['a'] }] }), 400, 'CPS.0034', 'Parameter: tags is invalid.');
      for (const act of ['list', 'create', 'FILTER']) expectError(await instances({ action: act }), 400, 'CPS.0047', 'Parameter: action is invalid.');
      expectError(await instances({}), 400, 'CPS.0047');
    });

    it('drops the tags of deleted servers (deleteTagsOf)', async () => {
      const [gone] = pick(2);
      await deleteTagsOf(t.node.handle.db, [gone!]);
      expect(await tagsOf(gone!)).toEqual([]);
      expect(ids(await instances({ action: 'filter', tags: [{ key: 'env', values: ['prod'] }] }))).toEqual(pick(0));
      expect((await call('GET', '/tags')).body.tags[0]).toEqual({ key: 'env', values: ['dev', 'prod'] });
      await deleteTagsOf(t.node.handle.db, []);
    });
  });
});
