import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { list } from 'tar';
import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { SIM_IMAGES } from '../../src/store/seed.js';
import { sendSigned, type Reply } from '../helpers/http.js';
import { buildTar, putObject } from '../helpers/obs.js';
import { nodesPerTest, PROJECT, waitFor, type TestNode } from '../helpers/node.js';

const start = nodesPerTest({ auth: 'verify', servers: 1, phonesPerServer: 3 });
const key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
const ANDROID_12 = SIM_IMAGES.find((i) => i.image_label === 'cloud_phone' && i.os_name === 'Android 12')!.image_id;

/** A node with AK/SK on, and its calls signed as the SDK signs them. */
async function signedNode() {
  const t = await start();
  const call = (method: string, path: string, body?: unknown): Promise<Reply> => sendSigned(t.node.port, key, method, `/v1/${PROJECT}/cloud-phone${path}`, { body });
  const phones: string[] = (await call('GET', '/phones')).body.phones.map((p: { phone_id: string }) => p.phone_id).sort();
  /** Submit, expect 200, and answer the finished jobs. */
  const run = async (method: string, path: string, body?: unknown): Promise<any[]> => {
    const r = await call(method, path, body);
    expect(r.status, r.text).toBe(200);
    return waitFor(async () => {
      const jobs = (await call('GET', `/jobs?request_id=${r.body.request_id}`)).body.jobs;
      return jobs.length > 0 && jobs.every((j: { status: number }) => j.status !== 1) ? jobs : undefined;
    });
  };
  /** What a shell command prints on a phone (an async shell job). */
  const shell = async (phoneId: string, content: string) => (await run('POST', '/phones/commands', { command: 'shell', content, phone_ids: [phoneId] }))[0].execute_msg as string;
  const push = async (phoneId: string, files: Record<string, string>, name: string) => {
    const tar = putObject(t.node.config.obsDir, 'files', name, await buildTar(files));
    const [job] = await run('POST', '/phones/commands', { command: 'push', content: tar, phone_ids: [phoneId] });
    expect(job.status, JSON.stringify(job)).toBe(2);
  };
  return { t, call, run, shell, push, phones };
}

async function tarPaths(file: string): Promise<string[]> {
  const paths: string[] = [];
  await list({ file, onReadEntry: (e) => paths.push(e.path) });
  return paths.sort();
}

describe('BatchExportCloudPhoneData and BatchImportCloudPhoneData', () => {
  test('a pushed file, exported to OBS, restored on another phone, reads there; exclude wins over include', async () => {
    const { t, call, run, shell, push, phones } = await signedNode();
    const [a, b] = phones as [string, string];
    await push(a, { 'data/local/tmp/keep.txt': 'moved between phones\n', 'data/local/tmp/skip.log': 'noise\n', 'data/misc/other.txt': 'other\n', 'data/misc/else.txt': 'else\n', 'sdcard/Download/out.txt': 'out\n' }, 'a.tar');

    const [exported] = await run('POST', '/phones/batch-storage', {
      storage_infos: [{ phone_id: a, include_files: ['/data/local/tmp', '/data/misc/oth*'], exclude_files: ['/data/local/tmp/skip.log'], bucket_name: 'backups', object_path: 'phone-a/data.tar' }],
    });
    expect(exported, JSON.stringify(exported)).toMatchObject({ phone_id: a, status: 2 });
    expect(exported.execute_msg).toContain('obs://backups/phone-a/data.tar: 2 files and 0 directories of Android 11');
    const file = join(t.node.config.obsDir, 'backups', 'phone-a', 'data.tar');
    expect(await tarPaths(file)).toEqual(['data/local/tmp/keep.txt', 'data/misc/other.txt', 'opencph-export.json']);

    const [restored] = await run('POST', '/phones/batch-restore', { restore_infos: [{ phone_id: b, bucket_name: 'backups', object_path: 'phone-a/data.tar' }] });
    expect(restored, JSON.stringify(restored)).toMatchObject({ phone_id: b, status: 2 });
    const read = await call('POST', '/phones/sync-commands', { command: 'shell', content: 'cat /data/local/tmp/keep.txt', phone_ids: [b] });
    expect(read.status, read.text).toBe(200);
    expect(read.body.jobs[0]).toMatchObject({ status: 2, execute_msg: 'moved between phones\n' });
    expect(await shell(b, 'ls /data/local/tmp /data/misc')).toBe('/data/local/tmp:\nkeep.txt\n\n/data/misc:\nother.txt\n');
    // The manifest is read, not unpacked; the phone's own Download stays empty.
    expect(await shell(b, 'ls /')).not.toContain('opencph-export.json');
    expect(await shell(b, 'ls /sdcard/Download')).toBe('');
  });

  test('data of a newer Android is refused on an older image; the other way round restores', async () => {
    const { t, run, push, shell, phones } = await signedNode();
    const [older, newer] = phones as [string, string];
    const [reset] = await run('POST', '/phones/batch-reset', { image_id: ANDROID_12, phones: [{ phone_id: newer }] });
    expect(reset.status, JSON.stringify(reset)).toBe(2);
    await push(newer, { 'data/local/tmp/twelve.txt': '12\n' }, 'twelve.tar');
    await push(older, { 'data/local/tmp/eleven.txt': '11\n' }, 'eleven.tar');
    const exports = await run('POST', '/phones/batch-storage', {
      storage_infos: [
        { phone_id: newer, include_files: ['/data/local/tmp/*'], bucket_name: 'backups', object_path: 'a12.tar' },
        { phone_id: older, include_files: ['/data/local/tmp/*'], bucket_name: 'backups', object_path: 'a11.tar' },
      ],
    });
    expect(exports.map((j) => j.status)).toEqual([2, 2]);

    const jobs = await run('POST', '/phones/batch-restore', {
      restore_infos: [
        { phone_id: older, bucket_name: 'backups', object_path: 'a12.tar' },
        { phone_id: newer, bucket_name: 'backups', object_path: 'a11.tar' },
      ],
    });
    const byPhone = new Map(jobs.map((j) => [j.phone_id, j]));
    expect(byPhone.get(older)).toMatchObject({
      status: -1,
      error_code: 'CPS.0941',
      error_msg: `The data comes from a newer Android version than the phone runs. obs://backups/a12.tar holds data of Android 12 (API 31); phone ${older} runs Android 11 (API 30).`,
    });
    expect(byPhone.get(newer)).toMatchObject({ status: 2 });
    expect(await shell(newer, 'cat /data/local/tmp/eleven.txt')).toBe('11\n');
    expect(await shell(older, 'ls /data/local/tmp')).toBe('eleven.txt\n');
    expect(existsSync(join(t.node.config.obsDir, 'backups', 'a12.tar'))).toBe(true);
  });

  test('a missing object, a file that is not a tar, unknown and malformed phones fail per item', async () => {
    const { t, run, phones } = await signedNode();
    putObject(t.node.config.obsDir, 'backups', 'junk.tar', 'x'.repeat(3000));
    const jobs = await run('POST', '/phones/batch-restore', {
      restore_infos: [
        { phone_id: phones[0], bucket_name: 'backups', object_path: 'nothing/here.tar' },
        { phone_id: phones[1], bucket_name: 'backups', object_path: 'junk.tar' },
        { phone_id: 'f'.repeat(32), bucket_name: 'backups', object_path: 'x.tar' },
        { phone_id: 'not an id', bucket_name: 'backups', object_path: 'x.tar' },
      ],
    });
    expect(jobs.map((j) => [j.status, j.error_code])).toEqual([
      [-1, 'CPS.0903'],
      [-1, 'CPS.0942'],
      [-1, 'CPS.0005'],
      [-1, 'CPS.0004'],
    ]);
    expect(jobs[0].error_msg).toBe('The OBS object does not exist. obs://backups/nothing/here.tar was not found.');
  });

  test('every rule of the bodies answers 400 CPS.0034 naming its field', async () => {
    const { call, phones } = await signedNode();
    const phone = phones[0]!;
    const item = { phone_id: phone, include_files: ['/data/local/tmp'], bucket_name: 'backups', object_path: 'a.tar' };
    const bad: [string, unknown][] = [
      ['include_files', { ...item, include_files: ['data/local/tmp'] }],
      ['include_files', { ...item, include_files: ['/system/app'] }],
      ['include_files', { ...item, include_files: ['/sdcard/Download'] }],
      ['include_files', { ...item, include_files: ['/data*'] }],
      ['include_files', { ...item, include_files: ['/data/a*b'] }],
      ['include_files', { ...item, include_files: ['/data/../system'] }],
      ['include_files', { ...item, include_files: ['/data/a b'] }],
      ['include_files', { ...item, include_files: ['/data/ü'] }],
      ['include_files', { ...item, include_files: ['/data/' + 'a'.repeat(4091)] }],
      ['include_files', { ...item, include_files: [] }],
      ['include_files', { phone_id: phone, bucket_name: 'backups', object_path: 'a.tar' }],
      ['exclude_files', { ...item, exclude_files: ['/system'] }],
      ['bucket_name', { ...item, bucket_name: 'ab' }],
      ['bucket_name', { ...item, bucket_name: 'Backups' }],
      ['bucket_name', { ...item, bucket_name: 'b_ups' }],
      ['bucket_name', { ...item, bucket_name: 'b'.repeat(64) }],
      ['object_path', { ...item, object_path: 'a'.repeat(1025) }],
      ['object_path', { ...item, object_path: 'a b.tar' }],
      ['object_path', { ...item, object_path: '/a.tar' }],
      ['object_path', { ...item, object_path: 'a/../b.tar' }],
      ['object_path', { ...item, object_path: 'a~b.tar' }],
    ];
    for (const [field, info] of bad) {
      const r = await call('POST', '/phones/batch-storage', { storage_infos: [info] });
      expect(r.status, `${JSON.stringify(info).slice(0, 200)}: ${r.text}`).toBe(400);
      expect(r.body.error_code).toBe('CPS.0034');
      expect(r.body.error_msg.startsWith(`Parameter: ${field} is invalid.`), r.body.error_msg).toBe(true);
    }
    for (const body of [{}, { storage_infos: [] }]) expect((await call('POST', '/phones/batch-storage', body)).body.error_msg).toBe('Parameter: storage_infos is invalid.');
    // Rules at their limits pass: 4096 bytes, every allowed character, `*` at the end, /cache.
    const good = ['/data/' + 'a'.repeat(4090), '/cache', '/data/x.+#~=_-y', '/data/local/tmp/*', '/cache/a*'];
    const r = await call('POST', '/phones/batch-storage', { storage_infos: [{ ...item, include_files: good, exclude_files: ['/data/x'], bucket_name: 'b-1.x', object_path: 'A/b_c+d#e=f.tar' }] });
    expect(r.status, r.text).toBe(200);

    const restore = { phone_id: phone, bucket_name: 'backups', object_path: 'a.tar' };
    for (const [field, info] of [
      ['bucket_name', { ...restore, bucket_name: 'x' }],
      ['object_path', { ...restore, object_path: 'a b' }],
      ['phone_id', { bucket_name: 'backups', object_path: 'a.tar' }],
      ['object_path', { phone_id: phone, bucket_name: 'backups' }],
    ] as const) {
      const bad = await call('POST', '/phones/batch-restore', { restore_infos: [info] });
      expect(bad.status, bad.text).toBe(400);
      expect(bad.body.error_msg.startsWith(`Parameter: ${field} is invalid.`), bad.body.error_msg).toBe(true);
    }
  });
});
