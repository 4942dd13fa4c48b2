import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { newId } from '../../src/domain/ids.js';
import { DEFAULT_PROJECT_ID } from '../../src/runtime/node.js';
import { createProject } from '../../src/runtime/projects.js';
import { SIM_IMAGES } from '../../src/store/seed.js';
import { admin } from '../helpers/admin.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { addTenant } from '../helpers/tenant.js';

const PUBLIC = SIM_IMAGES[0]!.image_id;
const PUBLIC_2 = SIM_IMAGES[1]!.image_id;

interface Project {
  id: string;
  key: Key;
  phoneId: string;
}

describe('custom images: import, list, share, accept, use, delete', () => {
  let t: TestNode;
  const a = { id: DEFAULT_PROJECT_ID, key: { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk }, phoneId: '' } as Project;
  const b = {} as Project;
  let golden = '';

  const call = (p: Project, method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, p.key, method, `/v1/${p.id}/cloud-phone${path}`, { body });
  const expectError = (r: Reply, status: number, code: string) => {
    expect(r.status, r.text).toBe(status);
    expect(r.body.error_code, r.text).toBe(code);
  };
  const importImage = async (p: Project, name: string, ...more: string[]) => {
    const out = await admin(t.dataDir, 'images', 'import', '--project', p.id, '--name', name, '--from-image', PUBLIC, ...more);
    return /\(([0-9a-f]{32})\) into project/.exec(out[0]!)![1]!;
  };
  const phoneImageIds = async (p: Project, type: string) => {
    const r = await call(p, 'GET', `/phone-images?image_type=${type}`);
    expect(r.status, r.text).toBe(200);
    return r.body.phone_images.map((i: { image_id: string }) => i.image_id);
  };
  /** Reset the project's phone to `imageId`: the job's final state, or the call's error. */
  const reset = async (p: Project, imageId: string) => {
    const r = await call(p, 'POST', '/phones/batch-reset', { image_id: imageId, phones: [{ phone_id: p.phoneId }] });
    if (r.status !== 200) return r;
    const jobId = r.body.jobs[0].job_id;
    return waitFor(async () => {
      const job = await call(p, 'GET', `/jobs/${jobId}`);
      return job.body.status === 1 ? undefined : job;
    });
  };
  const phoneImage = async (p: Project) => (await call(p, 'GET', `/phones/${p.phoneId}`)).body.image_id;

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 2 });
    const tenant = await addTenant(t.node, { servers: 1, phonesPerServer: 1 });
    b.id = tenant.projectId;
    b.key = tenant.key;
    for (const p of [a, b]) p.phoneId = (await call(p, 'GET', '/phones')).body.phones[0].phone_id;
  });
  afterAll(() => t.close());

  it('lists the public images of the catalogue, and no custom ones yet', async () => {
    const all = await call(a, 'GET', '/phone-images');
    expect(all.status, all.text).toBe(200);
    expect(all.body.request_id).toBe(all.headers['x-request-id']);
    expect(all.body.phone_images).toHaveLength(SIM_IMAGES.length);
    expect(all.body.phone_images[0]).toEqual({
      image_name: SIM_IMAGES[0]!.image_name,
      os_type: 'Android',
      is_public: 1,
      os_name: 'Android 11',
      image_label: 'cloud_phone',
      image_id: PUBLIC,
      is_support_encrypt: false,
    });
    expect(await phoneImageIds(a, 'public')).toEqual(all.body.phone_images.map((i: { image_id: string }) => i.image_id));
    expect(await phoneImageIds(a, 'private')).toEqual([]);
    expect(await phoneImageIds(a, 'share')).toEqual([]);
    expectError(await call(a, 'GET', '/phone-images?image_type=mine'), 400, 'CPS.0034');
    const none = await call(a, 'GET', '/images');
    expect(none.body).toEqual({ image_infos: [], total: 0, request_id: none.body.request_id });
  });

  it('imports a private image with opencph admin, and lists it to its project only', async () => {
    golden = await importImage(a, 'golden', '--version', 'golden-1.0', '--support-encrypt');
    expect(await phoneImageIds(a, 'private')).toEqual([golden]);
    expect(await phoneImageIds(a, 'all')).toContain(golden);
    expect(await phoneImageIds(a, 'public')).not.toContain(golden);
    const own = (await call(a, 'GET', '/phone-images?image_type=private')).body.phone_images[0];
    expect(own).toMatchObject({ image_name: 'golden', is_public: 2, is_support_encrypt: true, image_label: 'cloud_phone' });

    const listed = await call(a, 'GET', '/images');
    expect(listed.body.total).toBe(1);
    const view = listed.body.image_infos[0];
    expect(view).toMatchObject({ image_id: golden, image_name: 'golden', image_version: 'golden-1.0', image_type: 'private', status: 1, image_size: 4 * 1024 ** 3, project_id: a.id });
    expect(view).not.toHaveProperty('src_project_id');
    expect(view.domain_id).toMatch(/^[0-9a-f]{32}$/);
    expect(view.create_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    expect((await call(b, 'GET', '/images')).body.total).toBe(0);
    expect(await phoneImageIds(b, 'all')).not.toContain(golden);
    expectError(await reset(b, golden), 400, 'CPS.0030');
    // The owner can use it at once.
    const own_reset = await reset(a, golden);
    expect(own_reset.body.status, own_reset.text).toBe(2);
    expect(await phoneImage(a)).toBe(golden);
    expect((await reset(a, PUBLIC)).body.status).toBe(2);
  });

  it('shares it: pending is listed to the recipient but unusable; accepted, its phone can be reset to it', async () => {
    const added = await call(a, 'POST', `/images/${golden}/members`, { member: b.id });
    expect(added.status, added.text).toBe(200);
    expect(added.body).toEqual({ request_id: added.headers['x-request-id'], error_msg: '', error_code: '' });
    const members = await call(a, 'GET', `/images/${golden}/members`);
    expect(members.status, members.text).toBe(200);
    expect(members.body).toEqual({ members: [{ image_id: golden, member_id: b.id, create_time: expect.any(Number), update_time: expect.any(Number) }] });
    expect(Math.abs(members.body.members[0].create_time - Date.now())).toBeLessThan(60_000);

    // Pending: B finds it among ListImages' shares, not among the images its phones can take.
    const shared = await call(b, 'GET', '/images?image_type=share');
    expect(shared.body.total).toBe(1);
    expect(shared.body.image_infos[0]).toMatchObject({ image_id: golden, image_type: 'share', src_project_id: a.id });
    expect(shared.body.image_infos[0]).not.toHaveProperty('project_id');
    expect((await call(b, 'GET', '/images?image_type=private')).body.total).toBe(0);
    expect(await phoneImageIds(b, 'share')).toEqual([]);
    expectError(await reset(b, golden), 400, 'CPS.0030');

    const accepted = await call(b, 'PUT', `/images/${golden}/members`, { status: 'accepted' });
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.request_id).toBe(accepted.headers['x-request-id']);
    expect(await phoneImageIds(b, 'share')).toEqual([golden]);
    expect((await call(b, 'GET', '/phone-images?image_type=share')).body.phone_images[0].is_public).toBe(2);
    const job = await reset(b, golden);
    expect(job.body.status, job.text).toBe(2);
    expect(await phoneImage(b)).toBe(golden);
    // The owner's member list gained an update time; the owner cannot accept for the recipient.
    expectError(await call(a, 'PUT', `/images/${golden}/members`, { status: 'accepted' }), 400, 'CPS.0030');
    expectError(await call(b, 'PUT', `/images/${golden}/members`, { status: 'maybe' }), 400, 'CPS.0010');
  });

  it('rejected or removed, the share is unusable again', async () => {
    expect((await call(b, 'PUT', `/images/${golden}/members`, { status: 'rejected' })).status).toBe(200);
    expectError(await reset(b, golden), 400, 'CPS.0030');
    expect(await phoneImageIds(b, 'all')).not.toContain(golden);
    expect((await call(b, 'GET', '/images?image_type=share')).body.total).toBe(0);

    expect((await call(b, 'PUT', `/images/${golden}/members`, { status: 'accepted' })).status).toBe(200);
    expect(await phoneImageIds(b, 'share')).toEqual([golden]);
    const removed = await call(a, 'DELETE', `/images/${golden}/members/${b.id}`);
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body.error_code).toBe('');
    expect((await call(a, 'GET', `/images/${golden}/members`)).body.members).toEqual([]);
    expectError(await reset(b, golden), 400, 'CPS.0030');
    expect((await call(b, 'GET', '/images')).body.total).toBe(0);
    expectError(await call(b, 'PUT', `/images/${golden}/members`, { status: 'accepted' }), 400, 'CPS.0030');
    expectError(await call(a, 'DELETE', `/images/${golden}/members/${b.id}`), 400, 'CPS.0034');
    // B's phone keeps running the image it was reset to.
    expect(await phoneImage(b)).toBe(golden);
  });

  it('shares with at most 10 projects, each once, existing, not its own; only production images of its own', async () => {
    const deps = { db: t.node.handle.db, clock: { now: () => Date.now() }, ids: newId };
    const others: string[] = [];
    for (let i = 0; i < 11; i++) others.push((await createProject(deps, { account: 'tenant-b', name: `extra-${i}`, servers: 0, phonesPerServer: 0 })).project_id);
    for (const member of others.slice(0, 10)) expect((await call(a, 'POST', `/images/${golden}/members`, { member })).status).toBe(200);
    expectError(await call(a, 'POST', `/images/${golden}/members`, { member: others[10] }), 400, 'CPS.0921');
    expectError(await call(a, 'POST', `/images/${golden}/members`, { member: others[0] }), 400, 'CPS.0922');
    expect((await call(a, 'GET', `/images/${golden}/members`)).body.members.map((m: { member_id: string }) => m.member_id).sort()).toEqual(others.slice(0, 10).sort());
    expect((await call(a, 'DELETE', `/images/${golden}/members/${others[0]}`)).status).toBe(200);

    const self = await call(a, 'POST', `/images/${golden}/members`, { member: a.id });
    expectError(self, 400, 'CPS.0034');
    expect(self.body.error_msg).toContain('Parameter: member is invalid.');
    expectError(await call(a, 'POST', `/images/${golden}/members`, { member: 'f'.repeat(32) }), 400, 'CPS.0034');
    expectError(await call(a, 'POST', `/images/${golden}/members`, {}), 400, 'CPS.0034');
    expectError(await call(a, 'POST', `/images/${PUBLIC}/members`, { member: b.id }), 400, 'CPS.0030');
    expectError(await call(a, 'GET', `/images/${PUBLIC}/members`), 400, 'CPS.0030');
    expectError(await call(a, 'POST', `/images/${'a'.repeat(33)}/members`, { member: b.id }), 400, 'CPS.0030');
    const creating = await importImage(a, 'not-yet', '--status', 'creating');
    expectError(await call(a, 'POST', `/images/${creating}/members`, { member: b.id }), 400, 'CPS.0923');
    // Nor can it be put on a phone, by its own project.
    expectError(await reset(a, creating), 400, 'CPS.0030');
    for (const member of others.slice(1, 10)) expect((await call(a, 'DELETE', `/images/${golden}/members/${member}`)).status).toBe(200);
  });

  it('pages and filters ListImages', async () => {
    const before = Date.now();
    const made = [await importImage(a, 'Alpha-one'), await importImage(a, 'alpha-two', '--status', 'create-failed'), await importImage(a, 'beta')];
    const list = async (q: string) => {
      const r = await call(a, 'GET', `/images?${q}`);
      expect(r.status, `${q}: ${r.text}`).toBe(200);
      return { total: r.body.total as number, ids: r.body.image_infos.map((i: { image_id: string }) => i.image_id) as string[] };
    };
    const all = await list('');
    // golden, not-yet, and the three above; newest first.
    expect(all.total).toBe(5);
    expect(all.ids.slice(0, 3)).toEqual([...made].reverse());
    expect(await list('offset=1&limit=2')).toEqual({ total: 5, ids: all.ids.slice(1, 3) });
    expect((await list('offset=5')).ids).toEqual([]);
    for (const q of ['limit=0', 'limit=101', 'offset=-1']) expectError(await call(a, 'GET', `/images?${q}`), 400, 'CPS.0002');
    expect((await list('image_name=ALPHA')).ids.sort()).toEqual(made.slice(0, 2).sort());
    expect((await list('image_name=%25')).total).toBe(0);
    expect((await list('status=2')).ids).toEqual([made[1]]);
    expect((await list('status=0')).total).toBe(1);
    expect((await list('status=1')).total).toBe(3);
    expectError(await call(a, 'GET', '/images?status=3'), 400, 'CPS.0010');
    expect((await list(`image_id=${made[2]}`)).ids).toEqual([made[2]]);
    expect((await list(`create_since=${before}`)).ids.sort()).toEqual([...made].sort());
    expect((await list(`create_until=${before - 1}`)).total).toBe(2);
    expect((await list(`create_since=${before}&create_until=${before - 1}`)).total).toBe(0);
    expectError(await call(a, 'GET', '/images?create_since=1e3'), 400, 'CPS.0034');
    expect((await list('image_type=private')).total).toBe(5);
    expect((await list('image_type=share')).total).toBe(0);
    expectError(await call(a, 'GET', '/images?image_type=public'), 400, 'CPS.0034');

    // src_project_id picks the shares of one owner.
    expect((await call(a, 'POST', `/images/${made[2]}/members`, { member: b.id })).status).toBe(200);
    const fromA = await call(b, 'GET', `/images?src_project_id=${a.id}`);
    expect(fromA.body.image_infos.map((i: { image_id: string }) => i.image_id)).toEqual([made[2]]);
    expect((await call(b, 'GET', `/images?src_project_id=${'f'.repeat(32)}`)).body.total).toBe(0);
  });

  it('deletes its own private images only, and none that a phone runs', async () => {
    // B's phone still runs golden (reset to it while shared).
    const inUse = await call(a, 'DELETE', `/images/${golden}`);
    expectError(inUse, 400, 'CPS.0920');
    expectError(await call(a, 'DELETE', `/images/${PUBLIC}`), 400, 'CPS.0030');
    expectError(await call(a, 'DELETE', `/images/${'0'.repeat(32)}`), 400, 'CPS.0030');
    expect((await reset(b, PUBLIC_2)).body.status).toBe(2);

    const shared = await importImage(a, 'to-delete');
    expect((await call(a, 'POST', `/images/${shared}/members`, { member: b.id })).status).toBe(200);
    expect((await call(b, 'PUT', `/images/${shared}/members`, { status: 'accepted' })).status).toBe(200);
    const deleted = await call(a, 'DELETE', `/images/${shared}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual({ request_id: deleted.headers['x-request-id'], error_msg: '', error_code: '' });
    expect(await phoneImageIds(b, 'all')).not.toContain(shared);
    expectError(await reset(b, shared), 400, 'CPS.0030');
    expectError(await call(a, 'DELETE', `/images/${shared}`), 400, 'CPS.0030');
    expectError(await call(a, 'GET', `/images/${shared}/members`), 400, 'CPS.0030');

    expect((await call(a, 'DELETE', `/images/${golden}`)).status).toBe(200);
    expect((await call(a, 'GET', `/images?image_id=${golden}`)).body.total).toBe(0);
  });
});

describe('an image a queued reset will put on a phone', () => {
  it('cannot be deleted until that job is done', async () => {
    // Simulated work long enough that the reset is still running when DeleteImage comes.
    const t = await startTestNode({ servers: 1, phonesPerServer: 1, simDelayMs: 60_000 });
    try {
      const out = await admin(t.dataDir, 'images', 'import', '--project', DEFAULT_PROJECT_ID, '--name', 'golden', '--from-image', PUBLIC);
      const image = /\(([0-9a-f]{32})\) into project/.exec(out[0]!)![1]!;
      const phoneId = (await t.get('/phones')).body.phones[0].phone_id;
      const reset = await t.post('/phones/batch-reset', { image_id: image, phones: [{ phone_id: phoneId }] });
      expect(reset.body.jobs[0].error_code, reset.text).toBeUndefined();
      const refused = await t.send('DELETE', `/v1/${DEFAULT_PROJECT_ID}/cloud-phone/images/${image}`);
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error_code).toBe('CPS.0920');
      expect((await t.get(`/v1/${DEFAULT_PROJECT_ID}/cloud-phone/images?image_id=${image}`)).body.total).toBe(1);
    } finally {
      await t.close(0);
    }
  });
});
