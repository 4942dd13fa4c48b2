import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../src/cli/client/session.js';
import { waitForJobs } from '../../src/cli/client/wait.js';
import { DEFAULTS } from '../../src/config.js';
import { buildApk } from '../helpers/apk.js';
import { cli } from '../helpers/cli.js';
import { sendSigned, type Key, type Reply } from '../helpers/http.js';
import { PROJECT, startTestNode, waitFor, type TestNode } from '../helpers/node.js';
import { buildTar, putObject } from '../helpers/obs.js';

describe('opencph as a client, against a real server', () => {
  let t: TestNode;
  let home: string;
  const key: Key = { ak: DEFAULTS.defaultAk, sk: DEFAULTS.defaultSk };
  const run = (...args: string[]) => cli(home, args);
  const signed = (method: string, target: string, body?: unknown): Promise<Reply> =>
    sendSigned(t.node.port, key, method, target, { body, projectId: PROJECT, headers: body === undefined ? {} : { 'content-length': String(Buffer.byteLength(JSON.stringify(body))) } });
  let phones: { phone_id: string; phone_name: string; server_id: string }[];

  beforeAll(async () => {
    t = await startTestNode({ auth: 'verify', servers: 2, phonesPerServer: 2 });
    home = mkdtempSync(join(tmpdir(), 'opencph-home-'));
    phones = (await signed('GET', `/v1/${PROJECT}/cloud-phone/phones`)).body.phones;
    phones.sort((a, b) => a.phone_name.localeCompare(b.phone_name));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const configure = (...extra: string[]) =>
    run('configure', '--non-interactive', '--endpoint', t.url, '--project-id', PROJECT, ...extra);

  it('configure writes profiles to ~/.config/opencph/config.json with mode 0600, several by name', async () => {
    const a = await configure('--ak', key.ak, '--sk', key.sk, '--region', 'cn-north-4');
    expect(a.code, a.stderr).toBe(0);
    const b = await configure('--profile', 'login', '--user', DEFAULTS.defaultUser, '--password', DEFAULTS.defaultPassword, '--account', DEFAULTS.defaultAccount);
    expect(b.code, b.stderr).toBe(0);
    const path = join(home, '.config', 'opencph', 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.config', 'opencph')).mode & 0o777).toBe(0o700);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.profiles.default).toEqual({ endpoint: t.url, project_id: PROJECT, region: 'cn-north-4', ak: key.ak, sk: key.sk });
    expect(file.profiles.login).toEqual({ endpoint: t.url, project_id: PROJECT, user: DEFAULTS.defaultUser, password: DEFAULTS.defaultPassword, account: DEFAULTS.defaultAccount });

    // XDG_CONFIG_HOME and OPENCPH_CONFIG move the file.
    const xdg = mkdtempSync(join(tmpdir(), 'opencph-xdg-'));
    try {
      const c = await cli(home, ['configure', '--non-interactive', '--endpoint', t.url, '--project-id', PROJECT, '--ak', key.ak, '--sk', key.sk], { XDG_CONFIG_HOME: xdg });
      expect(c.code, c.stderr).toBe(0);
      expect(statSync(join(xdg, 'opencph', 'config.json')).mode & 0o777).toBe(0o600);
      const own = join(xdg, 'elsewhere.json');
      const d = await cli(home, ['configure', '--non-interactive', '--endpoint', t.url, '--project-id', PROJECT, '--ak', key.ak, '--sk', key.sk], { OPENCPH_CONFIG: own });
      expect(d.code, d.stderr).toBe(0);
      expect(statSync(own).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(xdg, { recursive: true, force: true });
    }

    // Asked interactively when flags do not give it (answers on stdin).
    const asked = await cli(home, ['configure', '--profile', 'asked'], {}, `${t.url}\n${PROJECT}\n\n${key.ak}\n${key.sk}\n`);
    expect(asked.code, asked.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path, 'utf8')).profiles.asked).toEqual({ endpoint: t.url, project_id: PROJECT, ak: key.ak, sk: key.sk });
    expect((await run('phones', 'list', '--profile', 'asked')).code).toBe(0);

    const bad = await run('configure', '--profile', 'fresh', '--non-interactive', '--endpoint', t.url);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Give the project id (--project-id)');
  });

  it('phones list as a table and as JSON; servers list; a token profile logs in once and keeps its token 0600', async () => {
    const tableRun = await run('phones', 'list');
    expect(tableRun.code, tableRun.stderr).toBe(0);
    const lines = tableRun.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PHONE_ID\s+NAME\s+STATUS\s+SERVER_ID\s+MODEL$/);
    expect(lines).toHaveLength(1 + phones.length);
    for (const p of phones) expect(tableRun.stdout).toMatch(new RegExp(`${p.phone_id}\\s+${p.phone_name}\\s+2 running\\s+${p.server_id}`));

    const jsonRun = await run('phones', 'list', '--output', 'json');
    const listed = JSON.parse(jsonRun.stdout);
    expect(listed.count).toBe(phones.length);
    expect(listed.phones.map((p: { phone_id: string }) => p.phone_id).sort()).toEqual(phones.map((p) => p.phone_id).sort());

    const servers = await run('servers', 'list');
    expect(servers.stdout).toMatch(/^SERVER_ID\s+NAME\s+STATUS\s+PHONES\s+MODEL\n/);
    expect(servers.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{2,}/)[3])).toEqual(['2', '2']);

    const byToken = await run('phones', 'show', phones[0]!.phone_name, '--profile', 'login', '-o', 'json');
    expect(byToken.code, byToken.stderr).toBe(0);
    expect(JSON.parse(byToken.stdout).phone_id).toBe(phones[0]!.phone_id);
    const tokens = join(home, '.config', 'opencph', 'tokens.json');
    expect(statSync(tokens).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(tokens, 'utf8')).login.token;
    expect((await run('servers', 'list', '--profile', 'login')).code).toBe(0);
    expect(JSON.parse(readFileSync(tokens, 'utf8')).login.token).toBe(kept);
  });

  it('environment variables override the profile, and need none', async () => {
    // OPENCPH_PROFILE picks the profile; OPENCPH_ENDPOINT overrides its endpoint (here: nothing listens).
    const refused = await cli(home, ['phones', 'list'], { OPENCPH_PROFILE: 'login', OPENCPH_ENDPOINT: 'http://127.0.0.1:1' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Cannot connect to http://127.0.0.1:1 (the endpoint of OPENCPH_ENDPOINT): connection refused');
    // Without any profile file: everything from the environment.
    const bare = mkdtempSync(join(tmpdir(), 'opencph-home-'));
    try {
      const none = await cli(bare, ['phones', 'list']);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('run `opencph configure`');
      const env = await cli(bare, ['phones', 'list', '-o', 'json'], { OPENCPH_ENDPOINT: t.url, OPENCPH_PROJECT_ID: PROJECT, OPENCPH_AK: key.ak, OPENCPH_SK: key.sk });
      expect(env.code, env.stderr).toBe(0);
      expect(JSON.parse(env.stdout).count).toBe(phones.length);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('phones restart --wait by name: plain lines when not a terminal, exit 0 with every job done', async () => {
    const [p1, p2] = phones;
    const r = await run('phones', 'restart', p1!.phone_name, p2!.phone_id, '--wait');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const requestId = /^waiting for request ([0-9a-f]{32})$/m.exec(r.stdout)![1]!;
    expect(r.stdout).not.toContain('\r');
    expect(r.stdout).toContain(`${p1!.phone_name} (${p1!.phone_id}): succeeded`);
    expect(r.stdout).toMatch(new RegExp(`^job [0-9a-f]{32} ${p2!.phone_name} \\(${p2!.phone_id}\\): succeeded$`, 'm'));
    expect(r.stdout).toContain('2 jobs: 2 succeeded, 0 failed');
    const jobs = (await signed('GET', `/v1/${PROJECT}/cloud-phone/jobs?request_id=${requestId}`)).body.jobs;
    expect(jobs.map((j: { status: number }) => j.status)).toEqual([2, 2]);

    // --output json: one JSON document on stdout, progress on stderr.
    const j = await run('phones', 'restart', '--server', phones[0]!.server_id, '--wait', '-o', 'json');
    expect(j.code, j.stderr).toBe(0);
    const answer = JSON.parse(j.stdout);
    expect(answer).toMatchObject({ done: 2, failed: 0, running: 0, timed_out: false });
    expect(answer.jobs.map((x: { phone_id: string }) => x.phone_id).sort()).toEqual(phones.filter((p) => p.server_id === phones[0]!.server_id).map((p) => p.phone_id).sort());
    expect(j.stderr).toMatch(/: succeeded\n/);
  });

  it('a rule failing one restart: exit status 1 and the failed job listed with its code', async () => {
    const [p1, , p3] = phones;
    const rule = await signed('POST', `/_opencph/v1/${PROJECT}/rules`, {
      match: { operation: 'phone.restart', phone_id: p3!.phone_id, times: 1 },
      outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } },
    });
    expect(rule.status, rule.text).toBe(200);
    const r = await run('phones', 'restart', p1!.phone_name, p3!.phone_name, '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('2 jobs: 1 succeeded, 1 failed');
    expect(r.stdout).toMatch(/^JOB_ID\s+TARGET\s+ERROR_CODE\s+ERROR_MSG$/m);
    expect(r.stdout).toMatch(new RegExp(`^[0-9a-f]{32}\\s+${p3!.phone_name} \\(${p3!.phone_id}\\)\\s+CPS\\.0022\\s+Not available phone\\.$`, 'm'));
  });

  it('shell runs a sync command and prints each phone\'s output; a failing command fails the verb', async () => {
    const [p1, p2] = phones;
    const r = await run('shell', p1!.phone_name, p2!.phone_name, '--', 'echo', 'hello', '&&', 'getprop', 'ro.serialno');
    expect(r.code, r.stderr).toBe(0);
    const blocks = r.stdout.split(/^== /m).filter(Boolean);
    expect(blocks).toHaveLength(2);
    for (const [i, p] of [p1!, p2!].entries()) {
      expect(blocks[i]).toMatch(new RegExp(`^${p.phone_name} \\(${p.phone_id}\\)\\nhello\\n\\S+\\n$`));
    }
    const failing = await run('shell', p1!.phone_id, '--', 'ls /no/such/dir');
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('(failed: CPS.0902');
    expect(failing.stdout).toContain('No such file or directory');
    // --async: RunShellCommand jobs on every phone of a server, their outputs once they end.
    const server = phones.filter((p) => p.server_id === p1!.server_id);
    const jobs = await run('shell', '--server', p1!.server_id, '--async', '--wait', '--', 'echo from-a-job');
    expect(jobs.code, jobs.stdout + jobs.stderr).toBe(0);
    expect(jobs.stdout).toContain(`${server.length} jobs: ${server.length} succeeded, 0 failed`);
    for (const p of server) expect(jobs.stdout).toContain(`== ${p.phone_name} (${p.phone_id})\nfrom-a-job\n`);
    const missing = await run('shell', p1!.phone_id);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Give the command after --');
  });

  it('install and push from OBS with --wait, uninstall, and what they did is on the phone', async () => {
    const obs = t.node.config.obsDir;
    const apk = putObject(obs, 'apps', 'shop.apk', buildApk({ packageName: 'com.example.shop', versionCode: 3, versionName: '1.2' }));
    const tar = putObject(obs, 'files', 'fixtures.tar', await buildTar({ 'data/local/tmp/fixture.txt': 'fixture data\n' }));
    const targets = [phones[0]!.phone_name, phones[1]!.phone_name];
    const installed = await run('install', apk, ...targets, '--wait');
    expect(installed.code, installed.stdout + installed.stderr).toBe(0);
    expect(installed.stdout).toContain('2 jobs: 2 succeeded, 0 failed');
    const pushed = await run('push', tar, ...targets, '--wait');
    expect(pushed.code, pushed.stdout).toBe(0);
    const seen = await run('shell', ...targets, '--', 'pm list packages -3 && cat /data/local/tmp/fixture.txt');
    expect(seen.stdout.match(/package:com\.example\.shop\nfixture data\n/g)).toHaveLength(2);

    const missing = await run('install', 'obs://apps/none.apk', targets[0]!, '--wait');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/CPS\.0903/);

    const removed = await run('uninstall', 'com.example.shop', targets[0]!, '--wait');
    expect(removed.code, removed.stdout).toBe(0);
    expect((await run('shell', targets[0]!, '--', 'pm list packages -3')).stdout).not.toContain('com.example.shop');
  });

  it('jobs wait follows two requests; jobs list and show; a timeout exits 124', async () => {
    const a = JSON.parse((await run('phones', 'stop', phones[0]!.phone_name, '-o', 'json')).stdout);
    const b = JSON.parse((await run('phones', 'stop', phones[1]!.phone_name, '-o', 'json')).stdout);
    const r = await run('jobs', 'wait', a.request_id, b.request_id);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`waiting for requests ${a.request_id} ${b.request_id}`);
    expect(r.stdout).toContain('2 jobs: 2 succeeded, 0 failed');
    for (const job of [...a.jobs, ...b.jobs]) expect(r.stdout).toContain(`job ${job.job_id} `);

    const listed = await run('jobs', 'list', a.request_id);
    expect(listed.stdout).toMatch(new RegExp(`^${a.jobs[0].job_id}\\s+${phones[0]!.phone_id}\\s+2 succeeded`, 'm'));
    const shown = JSON.parse((await run('jobs', 'show', a.jobs[0].job_id, '-o', 'json')).stdout);
    expect(shown).toMatchObject({ job_id: a.jobs[0].job_id, phone_id: phones[0]!.phone_id, status: 2 });

    // A held job never ends: --timeout gives up with 124 and says how to follow it again.
    const held = await signed('POST', `/_opencph/v1/${PROJECT}/rules`, { match: { operation: 'phone.restart', phone_id: phones[3]!.phone_id, times: 1 }, outcome: { hang: true } });
    expect(held.status, held.text).toBe(200);
    const timedOut = await run('phones', 'restart', phones[3]!.phone_name, '--wait', '--timeout', '1');
    expect(timedOut.code).toBe(124);
    expect(timedOut.stdout).toContain('1 job: 0 succeeded, 0 failed, 1 still running');
    expect(timedOut.stderr).toMatch(/timed out after 1 s with 1 job\(s\) still running; `opencph jobs wait [0-9a-f]{32}`/);
  });

  it('on a terminal, --wait redraws one line with \\r: done, failed and running per request, and the elapsed seconds', async () => {
    const a = JSON.parse((await run('phones', 'restart', phones[0]!.phone_name, '-o', 'json')).stdout);
    const rule = await signed('POST', `/_opencph/v1/${PROJECT}/rules`, { match: { operation: 'phone.restart', phone_id: phones[1]!.phone_id, times: 1 }, outcome: { hang: true } });
    expect(rule.status, rule.text).toBe(200);
    const b = JSON.parse((await run('phones', 'restart', phones[1]!.phone_name, '-o', 'json')).stdout);
    // The verbs' own session and wait, in this process, with a stream that says it is a terminal.
    const names = ['OPENCPH_CONFIG', 'OPENCPH_ENDPOINT', 'OPENCPH_PROJECT_ID', 'OPENCPH_AK', 'OPENCPH_SK'] as const;
    const saved = names.map((n) => process.env[n]);
    Object.assign(process.env, { OPENCPH_CONFIG: join(home, 'none.json'), OPENCPH_ENDPOINT: t.url, OPENCPH_PROJECT_ID: PROJECT, OPENCPH_AK: key.ak, OPENCPH_SK: key.sk });
    try {
      let drawn = '';
      const terminal = Object.assign(new Writable({ write: (chunk, _enc, done) => ((drawn += String(chunk)), done()) }), { isTTY: true }) as unknown as NodeJS.WriteStream;
      const waiting = waitForJobs(Session.open(undefined), [a.request_id, b.request_id], { progress: terminal, names: new Map() });
      const short = (r: string) => `…${r.slice(-8)}`;
      await waitFor(async () => (drawn.includes(`${short(b.request_id)}: 0 done, 0 failed, 1 running`) ? true : undefined));
      const release = await signed('POST', `/_opencph/v1/${PROJECT}/jobs/${b.jobs[0].job_id}/release`, {});
      expect(release.status, release.text).toBe(200);
      const { jobs, timedOut } = await waiting;
      expect(timedOut).toBe(false);
      expect(jobs.map((j) => j.status)).toEqual([2, 2]);
      const lines = drawn.split('\r').filter(Boolean);
      for (const line of lines) expect(line).toMatch(/^…[0-9a-f]{8}: \d done, \d failed, \d running \| …[0-9a-f]{8}: \d done, \d failed, \d running \| \d+s\x1b\[K\n?$/);
      expect(lines.at(-1)).toMatch(new RegExp(`^${short(a.request_id)}: 1 done, 0 failed, 0 running \\| ${short(b.request_id)}: 1 done, 0 failed, 0 running \\| \\d+s\x1b\\[K\n$`));
      expect(drawn.split('\n')).toHaveLength(2);
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
    }
  });

  it('says which credential is wrong and why', async () => {
    const wrongSk = await cli(home, ['phones', 'list'], { OPENCPH_SK: 'NotTheSecretKey0000000000000000000000000' });
    expect(wrongSk.code).toBe(1);
    expect(wrongSk.stderr).toContain('401 APIGW.0301');
    expect(wrongSk.stderr).toContain('signature does not match: the secret key is wrong');
    const wrongAk = await cli(home, ['phones', 'list'], { OPENCPH_AK: 'NOSUCHKEY00000000000' });
    expect(wrongAk.stderr).toContain('the access key NOSUCHKEY00000000000 is unknown: check `opencph configure`');
    const wrongPassword = await cli(home, ['phones', 'list', '--profile', 'login'], { OPENCPH_PASSWORD: 'wrong-password', OPENCPH_USER: 'nobody' });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain('IAM refused the login (401 IAM.0002');
    expect(wrongPassword.stderr).toContain('the user name or password is wrong (user "nobody"');
    const unknownPhone = await run('phones', 'restart', 'no-such-phone');
    expect(unknownPhone.stderr).toContain('No phone with the id or name "no-such-phone"');
    const unknownServer = await run('phones', 'list', '--server', 'no-such-server');
    expect(unknownServer.stderr).toContain('No server with the id or name "no-such-server"');
  });

  it('a signature dated outside the server\'s 15-minute window is put down to the clock', async () => {
    const later = await startTestNode({ auth: 'verify', servers: 1, phonesPerServer: 1, clock: 'virtual', clockStart: '2035-01-01T00:00:00Z' });
    try {
      const r = await cli(home, ['servers', 'list'], { OPENCPH_ENDPOINT: later.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('signature expired');
      expect(r.stderr).toContain("this machine's clock and the server's differ by more than 15 minutes");
    } finally {
      await later.close();
    }
  });

  it('a typo in a verb suggests the right one; every verb has help with an example', async () => {
    const typo = await run('phones', 'restrat');
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain("unknown command 'restrat'");
    expect(typo.stderr).toContain('(Did you mean restart?)');
    expect((await run('phons', 'list')).stderr).toContain('(Did you mean phones?)');
    for (const verb of [['phones', 'restart'], ['servers', 'list'], ['shell'], ['install'], ['jobs', 'wait'], ['configure']]) {
      const help = await run(...verb, '--help');
      expect(help.stdout, verb.join(' ')).toMatch(/Example:\n\s+\$ opencph /);
    }
  });
});
