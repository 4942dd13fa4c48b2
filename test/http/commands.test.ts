import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApk } from '../helpers/apk.js';
import { startTestNode, waitForRequest, type TestNode } from '../helpers/node.js';
import { buildTar, putObject } from '../helpers/obs.js';
import { serialOf } from '../../src/fleet/sim/android.js';

let t: TestNode;
let phones: { phone_id: string; server_id: string; status: number }[];
let servers: string[];

const commands = (body: unknown) => t.post('/phones/commands', body);

/** Run a command on phones and wait for its jobs. */
async function run(command: string, content: string, phoneIds: string[]) {
  const r = await commands({ command, content, phone_ids: phoneIds });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return waitForRequest(t, r.body.request_id);
}

/** The shell output of `script` on one phone (the job must succeed). */
async function shell(phoneId: string, script: string): Promise<string> {
  const [job] = await run('shell', script, [phoneId]);
  expect(job.status, JSON.stringify(job)).toBe(2);
  return job.execute_msg;
}

const apk = (name: string, versionCode = 1, versionName = '1.0', split?: string) =>
  putObject(t.node.config.obsDir, 'apps', `${name}${split ? `-${split}` : ''}-${versionCode}.apk`, buildApk({ packageName: name, versionCode, versionName, split }));

beforeAll(async () => {
  t = await startTestNode();
  phones = (await t.get('/phones?limit=100')).body.phones;
  servers = [...new Set(phones.map((p) => p.server_id))];
});
afterAll(async () => {
  await t.close();
});

describe('validation', () => {
  test('an unknown or missing command answers 400 CPS.0117', async () => {
    for (const body of [
      { command: 'reboot', content: 'x', phone_ids: [phones[0]!.phone_id] },
      { content: 'x', phone_ids: [phones[0]!.phone_id] },
      { command: 7, content: 'x', phone_ids: [phones[0]!.phone_id] },
    ]) {
      const r = await commands(body);
      expect(r.status).toBe(400);
      expect(r.body.error_code).toBe('CPS.0117');
      expect(r.body.error_msg).toMatch(/^Parameter: command is invalid\./);
    }
  });

  test('content that breaks its command\'s rules answers 400 CPS.0118 saying why', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `obs://apps/a${i}.apk`).join(' ');
    const long = Array.from({ length: 50 }, (_, i) => `obs://apps/${'x'.repeat(150)}${i}.apk`).join(' ');
    const cases: [string, unknown][] = [
      ['shell', 'echo ' + 'x'.repeat(1020)],
      ['shell', 'echo a\necho b'],
      ['shell', 'echo héllo'],
      ['shell', '   '],
      ['install', 'https://example.com/a.apk'],
      ['install', 'obs://Bad_Bucket/a.apk'],
      ['install', 'obs://apps/../etc/passwd'],
      ['install-multiple', many],
      ['install-multiple', long],
      ['uninstall', 'com.example app'],
      ['push', 'obs://files/a b.tar'],
      ['push', 'obs://files//a.tar'],
      ['push', ''],
      ['shell', 12],
    ];
    for (const [command, content] of cases) {
      const r = await commands({ command, content, phone_ids: [phones[0]!.phone_id] });
      expect(r.status, `${command} ${String(content).slice(0, 40)}`).toBe(400);
      expect(r.body.error_code).toBe('CPS.0118');
    }
    const r = await commands({ command: 'install-multiple', content: many, phone_ids: [phones[0]!.phone_id] });
    expect(r.body.error_msg).toBe('Parameter: content is invalid. At most 50 APKs, separated by spaces.');
  });

  test('no phone_ids and no server_ids answers 400 CPS.0009', async () => {
    const r = await commands({ command: 'shell', content: 'id' });
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe('CPS.0009');
  });

  test('an unknown phone id fails its own item', async () => {
    const r = await commands({ command: 'shell', content: 'id', phone_ids: ['0'.repeat(32), 'not a phone'] });
    expect(r.status).toBe(200);
    expect(r.body.jobs.map((j: any) => j.error_code)).toEqual(['CPS.0005', 'CPS.0004']);
  });
});

describe('targets', () => {
  test('server_ids fan out to every phone of those servers; an unknown server answers CPS.0097', async () => {
    const r = await commands({ command: 'shell', content: 'getprop ro.serialno', server_ids: [servers[0], 'f'.repeat(32), servers[0]] });
    expect(r.status).toBe(200);
    const onServer = phones.filter((p) => p.server_id === servers[0]).map((p) => p.phone_id);
    expect(r.body.jobs.filter((j: any) => j.phone_id).map((j: any) => j.phone_id).sort()).toEqual([...onServer].sort());
    expect(r.body.jobs.at(-1)).toMatchObject({ server_id: 'f'.repeat(32), error_code: 'CPS.0097', error_msg: 'Parameter: server_id is invalid.' });
    const jobs = await waitForRequest(t, r.body.request_id);
    for (const j of jobs.filter((j) => j.phone_id)) expect(j).toMatchObject({ status: 2, execute_msg: `${serialOf(j.phone_id)}\n`, node_id: servers[0] });
  });

  test('phone_ids win over server_ids', async () => {
    const r = await commands({ command: 'shell', content: 'id', phone_ids: [phones[0]!.phone_id], server_ids: servers });
    expect(r.body.jobs).toHaveLength(1);
    expect(r.body.jobs[0].phone_id).toBe(phones[0]!.phone_id);
  });
});

describe('shell', () => {
  test('output goes to execute_msg; ListJobs and ShowJob show it', async () => {
    const r = await commands({ command: 'shell', content: 'echo "hello world" && getprop ro.build.version.release', phone_ids: [phones[0]!.phone_id] });
    const [job] = await waitForRequest(t, r.body.request_id);
    expect(job).toMatchObject({ status: 2, error_code: '', error_msg: '', execute_msg: 'hello world\n11\n' });
    const shown = await t.get(`/jobs/${job.job_id}`);
    expect(shown.body).toMatchObject({ status: 2, execute_msg: 'hello world\n11\n', error_code: null });
  });

  test('a command that exits non-zero fails its job (CPS.0902) and keeps its output', async () => {
    const [job] = await run('shell', 'echo before; ls /nope', [phones[0]!.phone_id]);
    expect(job).toMatchObject({
      status: -1,
      error_code: 'CPS.0902',
      error_msg: 'The command on the phone failed. It exited with status 1.',
      execute_msg: 'before\nls: /nope: No such file or directory\n',
    });
    const [unknown] = await run('shell', 'monkey -p com.example 1', [phones[0]!.phone_id]);
    expect(unknown).toMatchObject({ status: -1, error_msg: 'The command on the phone failed. It exited with status 127.', execute_msg: '/system/bin/sh: monkey: not found\n' });
  });

  test('execute_msg is cut to 1024 bytes without splitting a character', async () => {
    const text = 'a' + 'é'.repeat(1000);
    const tar = putObject(t.node.config.obsDir, 'files', 'utf8.tar', await buildTar({ 'data/local/tmp/utf8.txt': text }));
    expect((await run('push', tar, [phones[0]!.phone_id]))[0].status).toBe(2);
    const out = await shell(phones[0]!.phone_id, 'cat /data/local/tmp/utf8.txt');
    expect(Buffer.byteLength(out)).toBe(1023);
    expect(out).toBe('a' + 'é'.repeat(511));
  });

  test('a stopped phone runs no command', async () => {
    const phone = phones[5]!.phone_id;
    const stop = await t.post('/phones/batch-stop', { phone_ids: [phone] });
    await waitForRequest(t, stop.body.request_id);
    const [job] = await run('shell', 'id', [phone]);
    expect(job).toMatchObject({ status: -1, error_code: 'CPS.0022' });
    const start = await t.post('/phones/batch-restart', { phones: [{ phone_id: phone }] });
    await waitForRequest(t, start.body.request_id);
  });
});

describe('install and uninstall', () => {
  test('install reads the APK for its package and version; pm sees it', async () => {
    const uri = apk('com.example.hello', 42, '4.2.0');
    const targets = [phones[0]!.phone_id, phones[1]!.phone_id];
    const jobs = await run('install', uri, targets);
    for (const j of jobs) expect(j).toMatchObject({ status: 2, execute_msg: 'Performing Streamed Install\nSuccess\n' });
    expect(await shell(targets[1]!, 'pm list packages -3')).toBe('package:com.example.hello\n');
    expect(await shell(targets[1]!, 'dumpsys package com.example.hello')).toContain('versionCode=42 ');
    expect(await shell(targets[1]!, 'dumpsys package com.example.hello')).toContain('versionName=4.2.0\n');
    expect(await shell(phones[2]!.phone_id, 'pm list packages -3')).toBe('');
  });

  test('an older version does not replace a newer one', async () => {
    const phone = phones[0]!.phone_id;
    await run('install', apk('com.example.down', 5, '5.0'), [phone]);
    const [job] = await run('install', apk('com.example.down', 4, '4.0'), [phone]);
    expect(job).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(job.execute_msg).toContain('Failure [INSTALL_FAILED_VERSION_DOWNGRADE]');
    // adb's -d lets it, and -t -r (as in CPH's own example) change nothing here.
    const [allowed] = await run('install', `-t -r -d ${apk('com.example.down', 4, '4.0')}`, [phone]);
    expect(allowed).toMatchObject({ status: 2, execute_msg: 'Performing Streamed Install\nSuccess\n' });
    expect(await shell(phone, 'dumpsys package com.example.down')).toContain('versionCode=4 ');
  });

  test('install-multiple installs the split APKs of one app', async () => {
    const phone = phones[1]!.phone_id;
    const parts = [apk('com.example.split', 3, '3.0'), apk('com.example.split', 3, '3.0', 'config.arm64_v8a'), apk('com.example.split', 3, '3.0', 'config.xxhdpi')];
    const [job] = await run('install-multiple', parts.join(' '), [phone]);
    expect(job).toMatchObject({ status: 2, execute_msg: 'Success\n' });
    expect(await shell(phone, 'pm list packages split')).toBe('package:com.example.split\n');
    expect(await shell(phone, 'pm path com.example.split')).toMatch(/^package:(\/data\/app\/\S+\/)base\.apk\npackage:\1split_config\.arm64_v8a\.apk\npackage:\1split_config\.xxhdpi\.apk\n$/);
    const [bad] = await run('install-multiple', `${parts[0]} ${apk('com.example.other', 1, '1.0', 'config.xxhdpi')}`, [phone]);
    expect(bad).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(bad.execute_msg).toContain('INSTALL_FAILED_INVALID_APK');
  });

  test('install with several APKs installs only the first', async () => {
    const phone = phones[2]!.phone_id;
    await run('install', `${apk('com.example.first')} ${apk('com.example.second')}`, [phone]);
    expect(await shell(phone, 'pm list packages -3')).toBe('package:com.example.first\n');
  });

  test('a missing object fails the job with CPS.0903', async () => {
    const [job] = await run('install', 'obs://apps/nowhere.apk', [phones[0]!.phone_id]);
    expect(job).toMatchObject({ status: -1, error_code: 'CPS.0903', error_msg: 'The OBS object does not exist. obs://apps/nowhere.apk was not found.' });
    const [push] = await run('push', 'obs://nobucket/a.tar', [phones[0]!.phone_id]);
    expect(push).toMatchObject({ status: -1, error_code: 'CPS.0903' });
  });

  test('a file that is not an APK fails to install', async () => {
    const uri = putObject(t.node.config.obsDir, 'apps', 'fake.apk', 'not a zip');
    const [job] = await run('install', uri, [phones[0]!.phone_id]);
    expect(job).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(job.execute_msg).toMatch(/^adb: failed to install obs:\/\/apps\/fake\.apk: Failure \[INSTALL_PARSE_FAILED_NOT_APK: /);
  });

  test('uninstall removes the package; a second uninstall fails', async () => {
    const phone = phones[3]!.phone_id;
    await run('install', apk('com.example.gone'), [phone]);
    expect(await run('uninstall', 'com.example.gone', [phone])).toMatchObject([{ status: 2, execute_msg: 'Success\n' }]);
    expect(await shell(phone, 'pm list packages -3')).toBe('');
    expect(await run('uninstall', 'com.example.gone', [phone])).toMatchObject([
      { status: -1, error_code: 'CPS.0902', execute_msg: 'Failure [DELETE_FAILED_INTERNAL_ERROR]\n' },
    ]);
  });

  test('commands on servers: install on every phone of a server', async () => {
    const r = await commands({ command: 'install', content: apk('com.example.fleet'), server_ids: [servers[1]] });
    const jobs = await waitForRequest(t, r.body.request_id);
    expect(jobs.length).toBe(phones.filter((p) => p.server_id === servers[1]).length);
    expect(jobs.every((j) => j.status === 2)).toBe(true);
  });
});

describe('push', () => {
  test('push unpacks the tar under / and cat reads the files back', async () => {
    const phone = phones[4]!.phone_id;
    const tar = await buildTar({ 'data/local/tmp/greeting.txt': 'hello from obs\n', 'data/local/tmp/conf/app.json': '{"a":1}\n', 'sdcard/Download/note.txt': 'note\n' });
    const [job] = await run('push', putObject(t.node.config.obsDir, 'files', 'bundle/set.tar', tar), [phone]);
    expect(job.status).toBe(2);
    expect(job.execute_msg).toMatch(/^obs:\/\/files\/bundle\/set\.tar: 3 files and \d+ director(y|ies) unpacked to \//);
    expect(await shell(phone, 'cat /data/local/tmp/greeting.txt')).toBe('hello from obs\n');
    expect(await shell(phone, 'cat /data/local/tmp/conf/app.json; ls /data/local/tmp')).toBe('{"a":1}\nconf\ngreeting.txt\n');
    expect(await shell(phone, 'ls /sdcard/Download')).toBe('note.txt\n');
  });

  test('a file that is not a tar fails the push', async () => {
    const [job] = await run('push', putObject(t.node.config.obsDir, 'files', 'broken.tar', 'x'.repeat(3000)), [phones[4]!.phone_id]);
    expect(job).toMatchObject({ status: -1, error_code: 'CPS.0902' });
    expect(job.execute_msg).toMatch(/^push: obs:\/\/files\/broken\.tar is not a tar file that can be unpacked: /);
  });
});
