import { BasicCredentials, Region } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient, HttpRequestOptions } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, type RunningNode } from '../../src/runtime/node.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

/**
 * The official SDK core (@huaweicloud/huaweicloud-sdk-core) signs real requests against a node:
 * its own AK/SK signer, its own HTTP client, its own project discovery through IAM.
 */
function client(endpoint: string, credentials: BasicCredentials, region?: Region): HcClient {
  const builder = new ClientBuilder<HcClient>((hc) => hc).withCredential(credentials);
  return (region ? builder.withRegion(region) : builder.withEndpoint(endpoint)).build();
}

function op(method: string, path: string, queryParams: Record<string, unknown> = {}, data?: Record<string, unknown>): HttpRequestOptions {
  return { method, url: `/v1/{project_id}/cloud-phone${path}`, contentType: 'application/json', queryParams, pathParams: {}, headers: {}, ...(data ? { data } : {}) };
}

describe('requests signed by the official SDK', () => {
  let t: TestNode;
  let node: RunningNode;
  const credentials = () => new BasicCredentials().withAk(DEFAULTS.defaultAk).withSk(DEFAULTS.defaultSk).withProjectId(DEFAULT_PROJECT_ID);

  beforeAll(async () => {
    // The SDK logs each refused call in full to stdout; the assertions below say what matters.
    Logger4jInstance.level = 'off';
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 2 });
    node = t.node;
  });
  afterAll(() => t.close());

  it('lists, submits a batch with a body, and polls it with a query', async () => {
    const hc = client(node.url, credentials());
    const phones = await hc.sendRequest<{ httpStatusCode: number; count: number; phones: { phone_id: string }[] } & object>(op('GET', '/phones', { offset: 0, limit: 100 }) as HttpRequestOptions);
    expect(phones.httpStatusCode).toBe(200);
    expect(phones.count).toBe(2);

    const body = { phones: phones.phones.map((p) => ({ phone_id: p.phone_id, property: '{"ro.sim.name":"it\'s (one)"}' })) };
    const batch = await hc.sendRequest<{ httpStatusCode: number; request_id: string; jobs: unknown[] } & object>(op('POST', '/phones/batch-restart', {}, body));
    expect(batch.httpStatusCode).toBe(200);
    expect(batch.jobs).toHaveLength(2);

    const jobs = await hc.sendRequest<{ httpStatusCode: number; jobs: unknown[] } & object>(op('GET', '/jobs', { request_ids: `${batch.request_id},${'0'.repeat(32)}`, limit: 10 }));
    expect(jobs.httpStatusCode).toBe(200);
    expect(jobs.jobs).toHaveLength(2);
  });

  it('surfaces a wrong secret key as the SDK client error APIGW.0301 (status 401, request id from the header)', async () => {
    const hc = client(node.url, new BasicCredentials().withAk(DEFAULTS.defaultAk).withSk('not-the-secret-key').withProjectId(DEFAULT_PROJECT_ID));
    const err = await hc.sendRequest(op('GET', '/servers')).then(
      () => undefined,
      (e: { httpStatusCode?: number; errorCode?: string; errorMsg?: string; requestId?: string }) => e,
    );
    expect(err).toMatchObject({ httpStatusCode: 401, errorCode: 'APIGW.0301' });
    expect(err?.errorMsg).toContain('verify aksk signature fail');
    expect(err?.requestId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('finds the project id through GET /v3/projects when built with a region and no project id', async () => {
    const creds = new BasicCredentials().withAk(DEFAULTS.defaultAk).withSk(DEFAULTS.defaultSk).withIamEndpoint(node.url);
    const hc = client(node.url, creds, new Region('cn-north-4', node.url));
    const servers = await hc.sendRequest<{ httpStatusCode: number; count: number } & object>(op('GET', '/servers'));
    expect(servers.httpStatusCode).toBe(200);
    expect(servers.count).toBe(1);
    expect(creds.projectId).toBe(DEFAULT_PROJECT_ID);
  });
});
