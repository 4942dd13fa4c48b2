import { describe, expect, test } from 'vitest';
import { buildApk } from '../helpers/apk.js';
import { makeDataDir, nodesPerTest, waitForRequest, type TestNode } from '../helpers/node.js';
import { buildTar, putObject } from '../helpers/obs.js';

const startNode = nodesPerTest();
const start = (dataDir?: string) => startNode(dataDir ? { dataDir } : {});

async function firstPhone(node: TestNode): Promise<string> {
  return (await node.get('/phones?limit=1')).body.phones[0].phone_id;
}

async function submit(node: TestNode, path: string, body: unknown): Promise<any[]> {
  const r = await node.post(path, body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return waitForRequest(node, r.body.request_id);
}

async function shell(node: TestNode, phoneId: string, script: string): Promise<string> {
  const [job] = await submit(node, '/phones/commands', { command: 'shell', content: script, phone_ids: [phoneId] });
  return job.execute_msg;
}

describe('properties', () => {
  test('batch-update-property sets properties that getprop shows; a malformed one fails alone', async () => {
    const node = await start();
    const phone = await firstPhone(node);
    const r = await node.post('/phones/batch-update-property', {
      phones: [
        { phone_id: phone, property: JSON.stringify({ 'ro.product.model': 'Mate 60', 'sys.prop.writephonenum': '13666666666' }) },
        { phone_id: phone, property: '{"unterminated' },
        { phone_id: phone, property: '["not", "an", "object"]' },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.jobs.map((j: any) => j.error_code)).toEqual([undefined, 'CPS.0034', 'CPS.0034']);
    const jobs = await waitForRequest(node, r.body.request_id);
    expect(jobs.map((j) => j.status)).toEqual([2, -1, -1]);
    expect(await shell(node, phone, 'getprop ro.product.model; getprop sys.prop.writephonenum')).toBe('Mate 60\n13666666666\n');
    const detail = await node.get(`/phones/${phone}`);
    expect(JSON.parse(detail.body.property)).toEqual({ 'ro.product.model': 'Mate 60', 'sys.prop.writephonenum': '13666666666' });
  });

  test('batch-update-property needs phones with a property', async () => {
    const node = await start();
    for (const body of [{}, { phones: [] }, { phones: [{ phone_id: await firstPhone(node) }] }]) {
      const r = await node.post('/phones/batch-update-property', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
  });

  test('restart with a property applies it; reset restores the image\'s', async () => {
    const node = await start();
    const phone = await firstPhone(node);
    await submit(node, '/phones/batch-restart', { phones: [{ phone_id: phone, property: '{"ro.product.brand":"Acme"}' }] });
    expect(await shell(node, phone, 'getprop ro.product.brand')).toBe('Acme\n');
    await submit(node, '/phones/batch-reset', { phones: [{ phone_id: phone }] });
    expect(await shell(node, phone, 'getprop ro.product.brand')).toBe('HUAWEI\n');
    await submit(node, '/phones/batch-reset', { phones: [{ phone_id: phone, property: '{"ro.product.brand":"Other"}' }] });
    expect(await shell(node, phone, 'getprop ro.product.brand')).toBe('Other\n');
  });
});

describe('what a phone keeps', () => {
  test('reset wipes what the user installed, pushed under /data and set; the rest of the tree stays', async () => {
    const node = await start();
    const phone = await firstPhone(node);
    const apk = putObject(node.node.config.obsDir, 'apps', 'keep.apk', buildApk({ packageName: 'com.example.keep', versionCode: 1, versionName: '1' }));
    const tar = putObject(node.node.config.obsDir, 'files', 'mixed.tar', await buildTar({ 'data/local/tmp/user.txt': 'user\n', 'system/etc/extra.conf': 'extra\n' }));
    await submit(node, '/phones/commands', { command: 'install', content: apk, phone_ids: [phone] });
    await submit(node, '/phones/commands', { command: 'push', content: tar, phone_ids: [phone] });
    await shell(node, phone, 'settings put secure android_id abc; wm density 480');
    expect(await shell(node, phone, 'pm list packages -3; cat /data/local/tmp/user.txt; settings get secure android_id')).toBe('package:com.example.keep\nuser\nabc\n');

    await submit(node, '/phones/batch-reset', { phones: [{ phone_id: phone }] });

    expect(await shell(node, phone, 'pm list packages -3; ls /data/local/tmp; settings get secure android_id; wm density')).toBe('null\nPhysical density: 320\n');
    expect(await shell(node, phone, 'cat /system/etc/extra.conf')).toBe('extra\n');
    expect(await shell(node, phone, 'pm list packages com.android.settings')).toBe('package:com.android.settings\n');
  });

  test('state persists across a restart of the server process', async () => {
    const dataDir = makeDataDir();
    const first = await start(dataDir);
    const phone = await firstPhone(first);
    const apk = putObject(first.node.config.obsDir, 'apps', 'durable.apk', buildApk({ packageName: 'com.example.durable', versionCode: 9, versionName: '9.0' }));
    const tar = putObject(first.node.config.obsDir, 'files', 'durable.tar', await buildTar({ 'data/local/tmp/durable.txt': 'still here\n' }));
    await submit(first, '/phones/commands', { command: 'install', content: apk, phone_ids: [phone] });
    await submit(first, '/phones/commands', { command: 'push', content: tar, phone_ids: [phone] });
    await submit(first, '/phones/batch-update-property', { phones: [{ phone_id: phone, property: '{"persist.sys.timezone":"Asia/Shanghai"}' }] });
    await shell(first, phone, 'settings put global adb_enabled 1');
    await first.close();

    const second = await start(dataDir);
    expect(await firstPhone(second)).toBe(phone);
    expect(await shell(second, phone, 'pm list packages -3')).toBe('package:com.example.durable\n');
    expect(await shell(second, phone, 'cat /data/local/tmp/durable.txt; getprop persist.sys.timezone; settings get global adb_enabled')).toBe(
      'still here\nAsia/Shanghai\n1\n',
    );
  });
});
