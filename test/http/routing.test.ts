import type { HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../helpers/http.js';
import { phoneIds, PROJECT, servers, startTestNode, type TestNode } from '../helpers/node.js';

/**
 * The routing hazards of cph-api.md §1 and the literal paths of §3: each literal reaches its own
 * operation, not its parametric neighbour (/phones/{phone_id}, /servers/{server_id},
 * /cph-server/{resource_id}/…), and a literal no route has answers 404, not 405.
 */

const CPH = `/v1/${PROJECT}/cloud-phone`;
const TAGS = `/v1/${PROJECT}/cph-server`;

interface Literal {
  method: HTTPMethods;
  /** The full path, as the client sends it. */
  path: string;
  body?: unknown;
}

/**
 * Literals whose operations are being built on other branches. Each is held to "not the
 * neighbour's answer" once the router has it; until then it is left out (see `present`), so this
 * file is green now and strict once they are merged.
 */
const BEING_BUILT: Literal[] = [
  { method: 'PUT', path: `${CPH}/servers/open-access`, body: {} },
  { method: 'GET', path: `${CPH}/servers/share-files` },
  { method: 'POST', path: `${CPH}/servers/change-server-model`, body: {} },
  { method: 'POST', path: `${CPH}/phones/batch-connection`, body: {} },
  { method: 'POST', path: `${CPH}/phones/batch-storage`, body: {} },
  { method: 'POST', path: `${CPH}/phones/batch-restore`, body: {} },
  { method: 'POST', path: `${CPH}/phones/share-files`, body: {} },
  { method: 'POST', path: `${CPH}/phones/share-apps`, body: {} },
  { method: 'DELETE', path: `${CPH}/phones/share-apps`, body: {} },
  { method: 'POST', path: `${CPH}/phones/expand-volume`, body: {} },
  { method: 'POST', path: `${CPH}/phones-traffic`, body: {} },
];

/** Literals built here, each with the answer only its own operation gives to that body. */
const BUILT: (Literal & { status: number; code: string; msg?: string })[] = [
  { method: 'POST', path: `${CPH}/phones/batch-reset`, body: {}, status: 400, code: 'CPS.0009' },
  { method: 'POST', path: `${CPH}/phones/batch-restart`, body: {}, status: 400, code: 'CPS.0009' },
  { method: 'POST', path: `${CPH}/phones/batch-stop`, body: {}, status: 400, code: 'CPS.0009' },
  { method: 'POST', path: `${CPH}/phones/batch-update-property`, body: {}, status: 400, code: 'CPS.0009' },
  { method: 'POST', path: `${CPH}/phones/commands`, body: {}, status: 400, code: 'CPS.0117' },
  { method: 'POST', path: `${CPH}/phones/sync-commands`, body: {}, status: 400, code: 'CPS.0117' },
  { method: 'POST', path: `${CPH}/servers/batch-restart`, body: {}, status: 400, code: 'CPS.0034', msg: 'Parameter: server_ids is invalid.' },
  { method: 'GET', path: `${TAGS}/tags`, status: 200, code: '' },
  { method: 'POST', path: `${TAGS}/resource_instances/action`, body: {}, status: 400, code: 'CPS.0047' },
];

/** What the neighbours answer a literal they take for an id (UpdateServerName, ShowCloudPhoneServerDetail, …) or the old 405. */
function neighbourAnswer(r: Reply): string | undefined {
  if (r.status === 405) return '405';
  if (r.status === 404 && r.body?.error_code === 'APIGW.0101') return 'no such API';
  if (r.body?.error_msg === 'Parameter: server_name is invalid.') return 'UpdateServerName';
  if (r.body?.error_msg === 'Parameter: phone_name is invalid.') return 'UpdatePhoneName';
  if (r.status === 404 && r.body?.error_code === 'CPS.0016') return 'a server not found';
  if (r.status === 404 && r.body?.error_code === 'CPS.0005') return 'a phone not found';
  return undefined;
}

describe('routing: literals against their parametric neighbours', () => {
  let t: TestNode;
  let phone: string;
  let server: string;

  /** With its Content-Length: node:http sends a DELETE body without one, and unframed. */
  const call = (method: string, path: string, body?: unknown) => {
    const text = JSON.stringify(body);
    return t.send(method, path, body === undefined ? {} : { body: text, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } });
  };
  const present = (l: Literal) => t.node.app!.hasRoute({ method: l.method, url: l.path.replace(PROJECT, ':project_id') });

  beforeAll(async () => {
    t = await startTestNode({ servers: 1, phonesPerServer: 1 });
    phone = (await phoneIds(t))[0]!;
    server = (await servers(t))[0]!.server_id;
  });
  afterAll(() => t.close());

  it('each literal built so far reaches its own operation', async () => {
    for (const l of BUILT) {
      expect(present(l), `${l.method} ${l.path} is routed`).toBe(true);
      const r = await call(l.method, l.path, l.body);
      expect(r.status, `${l.method} ${l.path}: ${r.text}`).toBe(l.status);
      if (l.code) expect(r.body.error_code, `${l.method} ${l.path}: ${r.text}`).toBe(l.code);
      if (l.msg) expect(r.body.error_msg).toBe(l.msg);
    }
  });

  it('each literal being built elsewhere, once routed, is not answered by its neighbour', async () => {
    for (const l of BEING_BUILT.filter(present)) {
      const r = await call(l.method, l.path, l.body);
      expect(neighbourAnswer(r), `${l.method} ${l.path}: ${r.text}`).toBeUndefined();
    }
  });

  it('a literal no route has answers 404 APIGW.0101 with any method, not the 405 of the route that would take it for an id', async () => {
    for (const [method, path] of [
      ['POST', `${CPH}/phones/batch-nothing`],
      ['DELETE', `${CPH}/phones/batch-nothing`],
      ['POST', `${CPH}/servers/batch-nothing`],
      ['POST', `${CPH}/servers/share_things`],
      ['POST', `${CPH}/jobs/nothing`],
      ['DELETE', `/v1/null/cloud-phone/phones`],
      ['POST', `${TAGS}/nothing/tags`],
    ] as const) {
      const r = await call(method, path, {});
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(404);
      expect(r.body.error_code).toBe('APIGW.0101');
      expect(r.headers['allow']).toBeUndefined();
    }
  });

  it('a wrong method on an id, or on a static path, still answers 405 with the methods that path takes', async () => {
    const expect405 = async (method: string, path: string, allow: string) => {
      const r = await call(method, path, {});
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(405);
      expect(r.body.error_code).toBe('APIGW.0101');
      expect(r.headers['allow']).toBe(allow);
    };
    await expect405('DELETE', `${CPH}/phones/${phone}`, 'GET, PUT');
    await expect405('POST', `${CPH}/servers/${server}`, 'GET, PUT');
    await expect405('DELETE', `${CPH}/jobs/${'0'.repeat(32)}`, 'GET');
    await expect405('DELETE', `${TAGS}/${server}/tags`, 'GET');
    await expect405('GET', `${TAGS}/${server}/tags/action`, 'POST');
    await expect405('DELETE', `${TAGS}/tags`, 'GET');
    await expect405('DELETE', `${CPH}/phones`, 'GET');
    // A static route counts as it is; the parametric one beside it does not take its name for an id.
    await expect405('DELETE', `${CPH}/phones/batch-stop`, 'POST');
    await expect405('DELETE', `${CPH}/servers/batch-restart/`, 'POST');
  });

  it('the tag routes never take a call meant for /cloud-phone/…, and the cloud-phone routes still answer', async () => {
    for (const [method, path] of [
      ['GET', `${CPH}/tags`],
      ['POST', `${CPH}/resource_instances/action`],
      ['POST', `${CPH}/phones/tags/action`],
      ['GET', `${CPH}/servers/${server}/tags`],
      ['POST', `${CPH}/servers/${server}/tags/action`],
    ] as const) {
      const r = await call(method, path, method === 'POST' ? { action: 'count' } : undefined);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(404);
      expect(r.body.error_code).toBe('APIGW.0101');
    }
    expect((await call('GET', `${CPH}/phones/${phone}`)).status).toBe(200);
    expect((await call('GET', `${CPH}/servers/${server}`)).status).toBe(200);
    expect((await call('GET', `${TAGS}/${server}/tags`)).body).toEqual({ tags: [] });
  });
});
