import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { makeDataDir, removeDataDir, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

/** Scripted outcomes (/_opencph/v1/{project_id}/rules) over real HTTP, signed as the SDK signs. */
describe('scripted outcomes: rules decide what jobs do', () => {
  const dataDir = makeDataDir();
  let t: TestNode;
  const a: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  let b: { key: Key; projectId: string; phones: string[] };
  let phones: string[];

  const length = (body: unknown): Record<string, string> => (body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) });
  const call = (key: Key, method: string, target: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, key, method, target, { body, projectId: /^\/(?:_opencph\/)?v1\/([^/]+)\//.exec(target)?.[1], headers: length(body) });
  const rules = (projectId = DEFAULT_PROJECT_ID) => `/_opencph/v1/${projectId}/rules`;
  const cph = (projectId = DEFAULT_PROJECT_ID) => `/v1/${projectId}/cloud-phone`;

  async function start(): Promise<void> {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 3, dataDir });
  }
  async function jobsOf(key: Key, requestId: string, projectId = DEFAULT_PROJECT_ID): Promise<any[]> {
    return waitFor(async () => {
      const r = await call(key, 'GET', `${cph(projectId)}/jobs?request_id=${requestId}`);
      return r.body.jobs.every((j: { status: number }) => j.status !== 1) ? r.body.jobs : undefined;
    });
  }
  async function restart(key: Key, phoneId: string, projectId = DEFAULT_PROJECT_ID): Promise<any> {
    const r = await call(key, 'POST', `${cph(projectId)}/phones/batch-restart`, { phones: [{ phone_id: phoneId }] });
    expect(r.status, r.text).toBe(200);
    return (await jobsOf(key, r.body.request_id, projectId))[0];
  }
  async function phoneStatus(phoneId: string): Promise<number> {
    return (await call(a, 'GET', `${cph()}/phones/${phoneId}`)).body.status;
  }

  beforeAll(async () => {
    await start();
    const { key, projectId } = await addTenant(t.node, { servers: 1, phonesPerServer: 2 });
    b = { key, projectId, phones: (await call(key, 'GET', `${cph(projectId)}/phones`)).body.phones.map((p: any) => p.phone_id) };
    phones = (await call(a, 'GET', `${cph()}/phones`)).body.phones.map((p: any) => p.phone_id);
  });
  afterAll(async () => {
    await t.close();
    await removeDataDir(dataDir);
  });

  it('fails the next restart of one phone with the given code, then restarts succeed again (times: 1)', async () => {
    const created = await call(a, 'POST', rules(), {
      match: { operation: 'phone.restart', phone_id: phones[0], times: 1 },
      outcome: { fail: { error_code: 'CPS.0006', error_msg: 'Phone is abnormal.' } },
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body.rule).toMatchObject({ rule_id: expect.stringMatching(/^[0-9a-f]{32}$/), remaining: 1, matched: 0 });
    // Another phone is not matched.
    expect(await restart(a, phones[1]!)).toMatchObject({ status: 2 });
    expect(await restart(a, phones[0]!)).toMatchObject({ status: -1, error_code: 'CPS.0006', error_msg: 'Phone is abnormal.' });
    expect(await restart(a, phones[0]!)).toMatchObject({ status: 2, error_code: '' });
    const listed = await call(a, 'GET', rules());
    expect(listed.body.rules.find((r: any) => r.rule_id === created.body.rule.rule_id)).toMatchObject({ remaining: 0, matched: 1 });
  });

  it('answers shell commands matching a pattern with the given output and exit status', async () => {
    await call(a, 'DELETE', rules());
    const ok = await call(a, 'POST', rules(), { match: { operation: 'phone.shell', command: '^getprop ro\\.build' }, outcome: { output: 'scripted\n', exit_status: 0 } });
    expect(ok.status, ok.text).toBe(200);
    await call(a, 'POST', rules(), { match: { operation: 'phone.shell', command: 'explode' }, outcome: { output: 'boom\n', exit_status: 3 } });
    const sync = await call(a, 'POST', `${cph()}/phones/sync-commands`, { command: 'shell', content: 'getprop ro.build.version.sdk', phone_ids: [phones[0]] });
    expect(sync.status, sync.text).toBe(200);
    expect(sync.body.jobs[0]).toMatchObject({ status: 2, execute_msg: 'scripted\n' });
    const failing = await call(a, 'POST', `${cph()}/phones/sync-commands`, { command: 'shell', content: 'echo explode', phone_ids: [phones[0]] });
    expect(failing.body.jobs[0]).toMatchObject({ status: -1, error_code: 'CPS.0902', error_msg: 'The command on the phone failed. It exited with status 3.', execute_msg: 'boom\n' });
    // A command no rule matches runs on the simulated phone.
    const real = await call(a, 'POST', `${cph()}/phones/sync-commands`, { command: 'shell', content: 'echo hello', phone_ids: [phones[0]] });
    expect(real.body.jobs[0]).toMatchObject({ status: 2, execute_msg: 'hello\n' });
    const listed = (await call(a, 'GET', rules())).body.rules;
    expect(listed.map((r: any) => [r.match.command, r.remaining, r.matched])).toEqual([
      ['^getprop ro\\.build', null, 1],
      ['explode', null, 1],
    ]);
  });

  it('keeps a job running for duration_ms', async () => {
    await call(a, 'DELETE', rules());
    await call(a, 'POST', rules(), { match: { operation: 'phone.stop', phone_id: phones[2] }, outcome: { duration_ms: 1500 } });
    const r = await call(a, 'POST', `${cph()}/phones/batch-stop`, { phone_ids: [phones[2]] });
    const job = (await call(a, 'GET', `${cph()}/jobs?request_id=${r.body.request_id}`)).body.jobs[0];
    expect(job.status).toBe(1);
    expect((await jobsOf(a, r.body.request_id))[0]).toMatchObject({ status: 2 });
  });

  it('leaves a phone in the status a rule gives', async () => {
    await call(a, 'DELETE', rules());
    await call(a, 'POST', rules(), { match: { operation: 'phone.restart', phone_id: phones[1], times: 1 }, outcome: { phone_status: -7 } });
    expect(await restart(a, phones[1]!)).toMatchObject({ status: 2 });
    expect(await phoneStatus(phones[1]!)).toBe(-7);
  });

  it('deletes one rule, or all of them; an unknown rule answers 404', async () => {
    await call(a, 'DELETE', rules());
    const one = (await call(a, 'POST', rules(), { match: { operation: 'server.restart' }, outcome: {} })).body.rule.rule_id;
    const two = (await call(a, 'POST', rules(), { match: { operation: 'phone.reset' } })).body.rule.rule_id;
    expect((await call(a, 'DELETE', `${rules()}/${one}`)).status).toBe(200);
    expect((await call(a, 'GET', rules())).body.rules.map((r: any) => r.rule_id)).toEqual([two]);
    const missing = await call(a, 'DELETE', `${rules()}/${one}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 'CPS.0965', error_msg: 'The rule does not exist.' });
    expect((await call(a, 'DELETE', rules())).status).toBe(200);
    expect((await call(a, 'GET', rules())).body.rules).toEqual([]);
  });

  it('answers bad rules with 400 in CPH format', async () => {
    const cases: [unknown, string][] = [
      [{ match: { operation: 'phone.explode' } }, 'match.operation'],
      [{ match: { operation: 'phone.shell', command: '([' } }, 'match.command'],
      [{ match: { operation: 'phone.restart' }, outcome: { phone_status: 99 } }, 'outcome.phone_status'],
      [{ match: { operation: 'server.restart' }, outcome: { server_status: 6 } }, 'outcome.server_status'],
      [{ match: { operation: 'phone.restart', times: 0 } }, 'match.times'],
      [{ match: { operation: 'phone.restart' }, outcome: { output: 'x' } }, 'outcome.output'],
    ];
    for (const [body, field] of cases) {
      const r = await call(a, 'POST', rules(), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toEqual({ request_id: expect.any(String), error_code: 'CPS.0034', error_msg: `Parameter: ${field} is invalid.` });
    }
  });

  it("keeps rules apart per project: another's rules never apply, and it cannot list or delete them", async () => {
    await call(a, 'DELETE', rules());
    const mine = (await call(a, 'POST', rules(), { match: { operation: 'phone.restart' }, outcome: { fail: { error_code: 'CPS.0006' } } })).body.rule.rule_id;
    expect(await restart(b.key, b.phones[0]!, b.projectId)).toMatchObject({ status: 2 });
    expect((await call(b.key, 'GET', rules(b.projectId))).body.rules).toEqual([]);
    expect((await call(b.key, 'DELETE', `${rules(b.projectId)}/${mine}`)).status).toBe(404);
    await call(b.key, 'DELETE', rules(b.projectId));
    // B's key on A's path is refused.
    expect((await call(b.key, 'GET', rules())).status).toBe(403);
    expect((await call(b.key, 'DELETE', rules())).status).toBe(403);
    expect((await call(a, 'GET', rules())).body.rules.map((r: any) => r.rule_id)).toEqual([mine]);
    expect(await restart(a, phones[0]!)).toMatchObject({ status: -1, error_code: 'CPS.0006' });
  });

  it('survives a restart of the node', async () => {
    await call(a, 'DELETE', rules());
    await call(a, 'POST', rules(), { match: { operation: 'phone.restart', phone_id: phones[0], times: 2 }, outcome: { fail: { error_code: 'CPS.0006' } } });
    expect(await restart(a, phones[0]!)).toMatchObject({ status: -1 });
    await t.close();
    await start();
    expect((await call(a, 'GET', rules())).body.rules).toEqual([expect.objectContaining({ remaining: 1, matched: 1 })]);
    expect(await restart(a, phones[0]!)).toMatchObject({ status: -1, error_code: 'CPS.0006' });
    expect(await restart(a, phones[0]!)).toMatchObject({ status: 2 });
  });
});
