import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { insertPhones, insertServers } from '../../src/store/fleet.js';
import { buildFleet, SIM_IMAGES } from '../../src/store/seed.js';
import { buildApk } from '../helpers/apk.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { buildTar, putObject } from '../helpers/obs.js';
import { nodesPerTest, PROJECT, waitFor } from '../helpers/node.js';

const start = nodesPerTest({ auth: 'verify', servers: 1, phonesPerServer: 2 });
const key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const IMAGE_1620 = SIM_IMAGES.find((i) => i.image_label === 'cloud_phone_1620' && i.os_name === 'Android 11')!.image_id;

/**
 * A node with its seeded rx1 server (spec 1.0, no shared storage) and a spec 2.0 server of three
 * kg1.cp.c8.d16.e2v2 phones written beside it; calls signed as the SDK signs them.
 */
async function sharingNode() {
  const t = await start();
  const db = t.node.handle.db;
  const fleet = buildFleet(PROJECT, 1, 3, Date.now() + 10_000);
  for (const s of fleet.servers) Object.assign(s, { server_name: 'spec2-0001', server_model_name: 'physical.kg1.4xlarge.cp', phone_model_name: 'kg1.cp.c8.d16.e2v2' });
  for (const p of fleet.phones) Object.assign(p, { phone_model_name: 'kg1.cp.c8.d16.e2v2', image_id: IMAGE_1620, volume_mode: 1 });
  await insertServers(db, fleet.servers);
  await insertPhones(db, fleet.phones);
  const call = (method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, key, method, `/v1/${PROJECT}/cloud-phone${path}`, { body });
  const servers: { server_id: string; server_name: string }[] = (await call('GET', '/servers')).body.servers;
  const spec2 = fleet.servers[0]!.server_id;
  const rx1 = servers.find((s) => s.server_id !== spec2)!.server_id;
  const rx1Phone: string = (await call('GET', `/phones?server_id=${rx1}`)).body.phones[0].phone_id;
  const finished = (requestId: string) =>
    waitFor(async () => {
      const jobs = (await call('GET', `/jobs?request_id=${requestId}`)).body.jobs;
      return jobs.length > 0 && jobs.every((j: { status: number }) => j.status !== 1) ? jobs : undefined;
    });
  const run = async (method: string, path: string, body?: unknown): Promise<any[]> => {
    const r = await call(method, path, body);
    expect(r.status, r.text).toBe(200);
    return finished(r.body.request_id);
  };
  /** What a shell command prints on every phone of a server, one output per phone. */
  const shellOn = async (serverId: string, content: string): Promise<string[]> =>
    (await run('POST', '/phones/commands', { command: 'shell', content, server_ids: [serverId] })).map((j) => j.execute_msg);
  return { t, call, run, shellOn, spec2, rx1, rx1Phone, phones: fleet.phones.map((p) => p.phone_id) };
}

describe('shared storage and shared apps of a server', () => {
  test('files pushed to shared storage show on every phone of the server, list, and delete', async () => {
    const { t, call, run, shellOn, spec2, rx1, phones } = await sharingNode();
    const tar = await buildTar({ 'data/share/docs/readme.txt': 'shared hello\n', 'data/share/docs/sub/deep.txt': 'deep\n', 'cache/shared/c.txt': 'cached\n' });
    putObject(t.node.config.obsDir, 'shared', 'set/docs.tar', tar);
    const [pushed] = await run('POST', '/phones/share-files', { bucket_name: 'shared', object_path: 'set/docs.tar', server_ids: [spec2] });
    expect(pushed, JSON.stringify(pushed)).toMatchObject({ server_id: spec2, status: 2 });
    expect(pushed.execute_msg).toContain(`obs://shared/set/docs.tar: 3 files shared with the 3 phones of server ${spec2}`);

    expect(await shellOn(spec2, 'cat /data/share/docs/readme.txt')).toEqual(['shared hello\n', 'shared hello\n', 'shared hello\n']);
    expect(await shellOn(spec2, 'ls /data/share/docs /cache/shared')).toEqual(Array(3).fill('/data/share/docs:\nreadme.txt\nsub\n\n/cache/shared:\nc.txt\n'));
    // The phones of another server see none of it.
    const elsewhere = await run('POST', '/phones/commands', { command: 'shell', content: 'ls /data/share', server_ids: [rx1] });
    expect(elsewhere.map((j) => j.status)).toEqual([-1, -1]);

    const listed = await run('GET', `/servers/share-files?server_ids=${spec2}&path=/data/share/docs`);
    expect(listed).toMatchObject([{ server_id: spec2, status: 2, execute_msg: 'path=/data/share/docs total=2 offset=0 count=2\nf 13 readme.txt\nd 4096 sub\n' }]);
    const page = await run('GET', `/servers/share-files?server_ids=${spec2}&path=/data/share/docs&offset=1&limit=1`);
    expect(page[0].execute_msg).toBe('path=/data/share/docs total=2 offset=1 count=1\nd 4096 sub\n');
    const one = await run('GET', `/servers/share-files?server_ids=${spec2}&path=/cache/shared/c.txt`);
    expect(one[0].execute_msg).toBe('path=/cache/shared/c.txt total=1 offset=0 count=1\nf 7 c.txt\n');
    // The literal path wins over GET /servers/{server_id}: without its query it is ListShareFiles' 400, not a 404.
    const bare = await call('GET', '/servers/share-files');
    expect(bare.status, bare.text).toBe(400);
    expect(bare.body.error_code).toBe('CPS.0034');

    // They are the server's: a factory reset of a phone leaves them, an export of the phone leaves them out.
    const [phone] = phones as [string];
    expect((await run('POST', '/phones/batch-reset', { phones: [{ phone_id: phone }] }))[0].status).toBe(2);
    expect(await shellOn(spec2, 'cat /data/share/docs/sub/deep.txt')).toEqual(Array(3).fill('deep\n'));
    const [exported] = await run('POST', '/phones/batch-storage', { storage_infos: [{ phone_id: phone, include_files: ['/data', '/cache'], bucket_name: 'backups', object_path: 'spec2.tar' }] });
    expect(exported).toMatchObject({ status: 2, execute_msg: 'obs://backups/spec2.tar: 0 files and 0 directories of Android 11\n' });

    const [deleted] = await run('POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/data/share/docs/sub', '/data/share/none'] });
    expect(deleted).toMatchObject({ status: 2, execute_msg: 'deleted /data/share/docs/sub (2 entries)\n/data/share/none: no such shared file\n' });
    expect(await shellOn(spec2, 'ls /data/share/docs')).toEqual(Array(3).fill('readme.txt\n'));
    const after = await run('GET', `/servers/share-files?server_ids=${spec2}&path=/data/share/docs`);
    expect(after[0].execute_msg).toBe('path=/data/share/docs total=1 offset=0 count=1\nf 13 readme.txt\n');
  });

  test('a listing keeps within 1024 bytes and says where the next page starts', async () => {
    const { t, run, spec2 } = await sharingNode();
    const files = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`data/many/${'n'.repeat(30)}-${String(i).padStart(2, '0')}.txt`, 'x']));
    putObject(t.node.config.obsDir, 'shared', 'many.tar', await buildTar(files));
    expect((await run('POST', '/phones/share-files', { bucket_name: 'shared', object_path: 'many.tar', server_ids: [spec2] }))[0].status).toBe(2);
    const [job] = await run('GET', `/servers/share-files?server_ids=${spec2}&path=/data/many`);
    const msg: string = job.execute_msg;
    expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(1024);
    const count = Number(/count=(\d+)/.exec(msg)![1]);
    expect(msg.startsWith(`path=/data/many total=50 offset=0 count=${count}\n`)).toBe(true);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(50);
    expect(msg.trimEnd().split('\n')).toHaveLength(count + 1);
    const [next] = await run('GET', `/servers/share-files?server_ids=${spec2}&path=/data/many&offset=${count}`);
    expect(next.execute_msg).toContain(`-${String(count).padStart(2, '0')}.txt\n`);
  });

  test('a shared app is installed on every phone of the server until it is deleted', async () => {
    const { t, call, run, shellOn, spec2 } = await sharingNode();
    const apk = buildApk({ packageName: 'com.example.shared', versionCode: 7, versionName: '7.0' });
    putObject(t.node.config.obsDir, 'apps', 'shared.tar', await buildTar({ 'app/shared.apk': apk }));
    const [pushed] = await run('POST', '/phones/share-apps', { package_name: 'com.example.shared', pre_install_app: 1, bucket_name: 'apps', object_path: 'shared.tar', server_ids: [spec2] });
    expect(pushed, JSON.stringify(pushed)).toMatchObject({ status: 2 });
    expect(await shellOn(spec2, 'pm list packages -3')).toEqual(Array(3).fill('package:com.example.shared\n'));

    const [wrong] = await run('POST', '/phones/share-apps', { package_name: 'com.example.other', bucket_name: 'apps', object_path: 'shared.tar', server_ids: [spec2] });
    expect(wrong).toMatchObject({ status: -1, error_code: 'CPS.0942', error_msg: 'The OBS object is not a tar file that can be used here. obs://apps/shared.tar holds no base APK of com.example.other.' });

    const [deleted] = await run('DELETE', '/phones/share-apps', { package_name: 'com.example.shared', server_ids: [spec2] });
    expect(deleted).toMatchObject({ status: 2 });
    expect(await shellOn(spec2, 'pm list packages -3')).toEqual(['', '', '']);
    const [again] = await run('DELETE', '/phones/share-apps', { package_name: 'com.example.shared', server_ids: [spec2] });
    expect(again).toMatchObject({ status: -1, error_code: 'CPS.0943', error_msg: `The app is not shared on this server. com.example.shared is not shared on server ${spec2}.` });
    const r = await call('DELETE', '/phones/share-apps', { package_name: 'com.example.shared', server_ids: [] });
    expect(r.status).toBe(400);
  });

  test('servers without shared storage, unknown servers, missing objects and tars outside /data fail per server', async () => {
    const { t, run, spec2, rx1 } = await sharingNode();
    putObject(t.node.config.obsDir, 'shared', 'ok.tar', await buildTar({ 'data/share/a.txt': 'a' }));
    putObject(t.node.config.obsDir, 'shared', 'system.tar', await buildTar({ 'data/share/a.txt': 'a', 'system/etc/x.conf': 'x' }));
    const unknown = 'f'.repeat(32);
    const refusal = `Shared storage is not supported by the server's phone model. Server ${rx1} has phones of rx1.cp.c15.d46.e1v1.`;
    const calls: [string, string, unknown][] = [
      ['POST', '/phones/share-files', { bucket_name: 'shared', object_path: 'ok.tar', server_ids: [rx1, unknown] }],
      ['POST', '/phones/share-files', { file_paths: ['/data/share/a.txt'], server_ids: [rx1, unknown] }],
      ['GET', `/servers/share-files?server_ids=${rx1},${unknown}&path=/data/share`, undefined],
      ['POST', '/phones/share-apps', { package_name: 'com.example.shared', bucket_name: 'shared', object_path: 'ok.tar', server_ids: [rx1, unknown] }],
      ['DELETE', '/phones/share-apps', { package_name: 'com.example.shared', server_ids: [rx1, unknown] }],
    ];
    for (const [method, path, body] of calls) {
      const jobs = await run(method, path, body);
      expect(jobs.map((j) => [j.server_id, j.status, j.error_code, j.error_msg]), `${method} ${path}`).toEqual([
        [rx1, -1, 'CPS.0940', refusal],
        [unknown, -1, 'CPS.0097', 'Parameter: server_id is invalid.'],
      ]);
    }
    const [missing] = await run('POST', '/phones/share-files', { bucket_name: 'shared', object_path: 'gone.tar', server_ids: [spec2] });
    expect(missing).toMatchObject({ status: -1, error_code: 'CPS.0903' });
    const [outside] = await run('POST', '/phones/share-files', { bucket_name: 'shared', object_path: 'system.tar', server_ids: [spec2] });
    expect(outside).toMatchObject({ status: -1, error_code: 'CPS.0942', error_msg: 'The OBS object is not a tar file that can be used here. obs://shared/system.tar: /system/etc/x.conf is outside /data and /cache; shared files go there only.' });
  });

  test('every rule of the bodies and the query answers 400 naming its field', async () => {
    const { call, spec2 } = await sharingNode();
    const push = { bucket_name: 'shared', object_path: 'ok.tar', server_ids: [spec2] };
    const app = { package_name: 'com.example.app', bucket_name: 'apps', object_path: 'app.tar', server_ids: [spec2] };
    const base = `/servers/share-files?server_ids=${spec2}`;
    const bad: [string, string, string, unknown, string?][] = [
      ['server_ids', 'POST', '/phones/share-files', { ...push, server_ids: [] }],
      ['server_ids', 'POST', '/phones/share-files', { ...push, server_ids: Array(101).fill(spec2) }],
      ['server_ids', 'POST', '/phones/share-files', { bucket_name: 'shared', object_path: 'ok.tar' }],
      ['bucket_name', 'POST', '/phones/share-files', { ...push, bucket_name: 'UP' }],
      ['bucket_name', 'POST', '/phones/share-files', { object_path: 'ok.tar', server_ids: [spec2] }],
      ['object_path', 'POST', '/phones/share-files', { ...push, object_path: 'files.zip' }],
      ['object_path', 'POST', '/phones/share-files', { ...push, object_path: 'a b.tar' }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['data/x'] }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/data/../system'] }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/data/文件'] }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/data/a+b'] }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/'] }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/data/' + 'a'.repeat(4091)] }],
      ['file_paths', 'POST', '/phones/share-files', { server_ids: [spec2], file_paths: [] }],
      ['path', 'GET', `${base}&path=/`, undefined],
      ['path', 'GET', `${base}&path=data`, undefined],
      ['path', 'GET', `${base}&path=/data//x`, undefined],
      ['path', 'GET', `${base}&path=/data/../x`, undefined],
      ['path', 'GET', `${base}&path=/data/a%20b`, undefined],
      ['path', 'GET', `/servers/share-files?server_ids=${spec2}`, undefined],
      ['server_ids', 'GET', '/servers/share-files?path=/data', undefined],
      ['server_ids', 'GET', '/servers/share-files?server_ids=,&path=/data', undefined],
      ['server_ids', 'GET', `/servers/share-files?server_ids=${Array(101).fill(spec2).join(',')}&path=/data`, undefined],
      ['offset or limit', 'GET', `${base}&path=/data&limit=51`, undefined, 'CPS.0002'],
      ['offset or limit', 'GET', `${base}&path=/data&limit=0`, undefined, 'CPS.0002'],
      ['offset or limit', 'GET', `${base}&path=/data&offset=-1`, undefined, 'CPS.0002'],
      ['package_name', 'POST', '/phones/share-apps', { ...app, package_name: '1com.example' }],
      ['package_name', 'POST', '/phones/share-apps', { ...app, package_name: '_com.example' }],
      ['package_name', 'POST', '/phones/share-apps', { ...app, package_name: 'example' }],
      ['package_name', 'POST', '/phones/share-apps', { ...app, package_name: 'com.example.' }],
      ['package_name', 'POST', '/phones/share-apps', { ...app, package_name: 'com.ex-ample' }],
      ['package_name', 'POST', '/phones/share-apps', { ...app, package_name: 'c.' + 'a'.repeat(127) }],
      ['pre_install_app', 'POST', '/phones/share-apps', { ...app, pre_install_app: 2 }],
      ['object_path', 'POST', '/phones/share-apps', { ...app, object_path: 'app.apk' }],
      ['server_ids', 'POST', '/phones/share-apps', { ...app, server_ids: Array(101).fill(spec2) }],
      ['package_name', 'DELETE', '/phones/share-apps', { package_name: 'com..', server_ids: [spec2] }],
      ['server_ids', 'DELETE', '/phones/share-apps', { package_name: 'com.example.app' }],
    ];
    for (const [field, method, path, body, code] of bad) {
      const r = await call(method, path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)}: ${r.text}`).toBe(400);
      expect(r.body.error_code).toBe(code ?? 'CPS.0034');
      expect(r.body.error_msg.startsWith(`Parameter: ${field} is invalid.`), r.body.error_msg).toBe(true);
    }
    // At the limits: 128 bytes, 100 servers, the path and package charsets.
    for (const [method, path, body] of [
      ['POST', '/phones/share-apps', { ...app, package_name: 'c.' + 'a'.repeat(126), server_ids: Array(100).fill(spec2) }],
      ['POST', '/phones/share-apps', { ...app, package_name: 'Com.Example_9.x1' }],
      ['POST', '/phones/share-files', { server_ids: [spec2], file_paths: ['/data/a b/c-d_e=f.g'] }],
      ['GET', `${base}&path=/data/a.b%2Bc-d_e%3Df/`, undefined],
    ] as const) {
      const r = await call(method, path, body);
      expect(r.status, `${method} ${path}: ${r.text}`).toBe(200);
    }
  });
});
