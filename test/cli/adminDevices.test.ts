import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { getPhone } from '../../src/store/fleet.js';
import { cli } from '../helpers/cli.js';
import { makeDataDir, PROJECT, removeDataDir, storeOf } from '../helpers/node.js';

/** `opencph admin devices`, the built CLI run as a user runs it, on a store of its own. */
describe('opencph admin devices', () => {
  let dataDir: string;
  let store: string[];
  const admin = (...args: string[]) => cli(dataDir, ['admin', 'devices', ...args, '--data-dir', dataDir, ...store]);
  const rows = (stdout: string) =>
    stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s{2,}/));

  beforeAll(async () => {
    dataDir = makeDataDir();
    const database = await storeOf(dataDir);
    store = database ? ['--database', database] : [];
  });
  afterAll(() => removeDataDir(dataDir));

  it('add maps a device to a new phone, its server created on first use; list shows the mapping as a table', async () => {
    const first = await admin('add', '--server-name', 'rack-1', '--serial', 'R58M123ABC', '--name', 'pixel-1');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^mapped R58M123ABC on 127\.0\.0\.1:5037 to phone pixel-1 \(([0-9a-f]{32})\) of server rack-1 \([0-9a-f]{32}, created\)\n$/);
    const second = await admin('add', '--server-name', 'rack-1', '--serial', '127.0.0.1:5555', '--adb-server', '127.0.0.1:5038');
    expect(second.code, second.stderr).toBe(0);
    // Named after its serial; the server of that name is the one made above.
    expect(second.stdout).toMatch(/^mapped 127\.0\.0\.1:5555 on 127\.0\.0\.1:5038 to phone 127-0-0-1-5555 \([0-9a-f]{32}\) of server rack-1 \([0-9a-f]{32}\)\n$/);
    const serverOf = (line: string) => /of server rack-1 \(([0-9a-f]{32})/.exec(line)![1];
    expect(serverOf(second.stdout)).toBe(serverOf(first.stdout));

    const list = await admin('list');
    expect(list).toMatchObject({ code: 0, stderr: '' });
    // By server, then adb server, then serial.
    expect(list.stdout.split('\n')[0]).toMatch(/^SERIAL\s+ADB SERVER\s+PHONE\s+PHONE ID\s+STATUS\s+SERVER\s+PROJECT\s+MAPPED$/);
    const phoneId = /\(([0-9a-f]{32})\)/.exec(first.stdout)![1];
    expect(rows(list.stdout)).toEqual([
      ['R58M123ABC', '127.0.0.1:5037', 'pixel-1', phoneId, '2 (running)', 'rack-1', PROJECT, expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)],
      ['127.0.0.1:5555', '127.0.0.1:5038', '127-0-0-1-5555', expect.stringMatching(/^[0-9a-f]{32}$/), '2 (running)', 'rack-1', PROJECT, expect.any(String)],
    ]);
    expect(rows((await admin('list', '--project', PROJECT)).stdout)).toHaveLength(2);
    expect(rows((await admin('list', '--project', '0'.repeat(32))).stdout)).toEqual([]);
  });

  it('refuses bad input with a message on stderr and exit status 1, changing nothing', async () => {
    const refused = async (args: string[], message: string) => {
      const r = await admin(...args);
      expect(r, args.join(' ')).toEqual({ code: 1, stdout: '', stderr: `opencph: ${message}\n` });
    };
    const taken = rows((await admin('list')).stdout).find((r) => r[0] === 'R58M123ABC')![3];
    await refused(['add', '--server-name', 'rack-2', '--serial', 'R58M123ABC'], `Device R58M123ABC on 127.0.0.1:5037 is already phone ${taken}.`);
    await refused(['add', '--server-name', 'rack-1', '--serial', 'X1', '--project', '0'.repeat(32)], `There is no project ${'0'.repeat(32)}.`);
    await refused(['add', '--server-name', 'rack 1', '--serial', 'X1'], 'A server name is 1 to 60 letters, digits, "-" or "_".');
    await refused(['add', '--server-name', 'rack-1', '--serial', 'X1', '--name', 'a/b'], 'A phone name is 1 to 60 letters, digits, "-" or "_".');
    await refused(['add', '--server-name', 'rack-1', '--serial', 'two words'], 'A serial is 1 to 255 printable characters without spaces.');
    await refused(['add', '--server-name', 'rack-1', '--serial', 'X1', '--adb-server', 'localhost'], '--adb-server must be host:port (an adb server, e.g. 127.0.0.1:5037), not "localhost"');
    await refused(['remove', '--serial', 'X1'], 'The project has no device X1 on 127.0.0.1:5037.');
    // The device is on another adb server than the default one.
    await refused(['remove', '--serial', '127.0.0.1:5555'], 'The project has no device 127.0.0.1:5555 on 127.0.0.1:5037.');
    const missing = await admin('add', '--serial', 'X1');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--server-name <name>' not specified");
    expect(rows((await admin('list')).stdout).map((r) => r[0])).toEqual(['R58M123ABC', '127.0.0.1:5555']);
  });

  it('remove takes a device out of the mapping; its phone stays', async () => {
    const phoneId = rows((await admin('list')).stdout).find((r) => r[0] === '127.0.0.1:5555')![3]!;
    const r = await admin('remove', '--serial', '127.0.0.1:5555', '--adb-server', '127.0.0.1:5038');
    expect(r).toEqual({ code: 0, stdout: `removed 127.0.0.1:5555 on 127.0.0.1:5038 (it was phone ${phoneId})\n`, stderr: '' });
    expect(rows((await admin('list')).stdout).map((row) => row[0])).toEqual(['R58M123ABC']);
    const handle = openDb({ url: store[1] ?? join(dataDir, 'opencph.db') });
    try {
      expect(await getPhone(handle.db, PROJECT, phoneId)).toMatchObject({ phone_id: phoneId, phone_name: '127-0-0-1-5555' });
    } finally {
      await handle.close();
    }
    // Mapped again, the same serial becomes a new phone.
    const again = await admin('add', '--server-name', 'rack-1', '--serial', '127.0.0.1:5555', '--adb-server', '127.0.0.1:5038');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain(phoneId);
  });
});
