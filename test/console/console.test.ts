import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { accessibilityViolations, launchBrowser, openPage } from '../helpers/browser.js';
import { getToken, passwordAuth, sendWithToken } from '../helpers/http.js';
import { nodesPerTest, PROJECT, waitFor, type TestNode } from '../helpers/node.js';

/**
 * The web console at /console, in Debian's chromium through playwright-core, against a real node
 * with authentication on (`--auth verify`): login, the fleet following a batch restart live, a
 * phone's page and its shell box, a failed job's codes, polling where there is no event stream,
 * and WCAG 2 AA as axe-core checks it.
 */
describe('web console', () => {
  const start = nodesPerTest({ auth: 'verify', simDelayMs: 200 });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The control and CPH API as a test script calls it beside the console, with the admin's token. */
  async function api(t: TestNode) {
    const r = await getToken(t.node.port, passwordAuth(DEFAULTS.defaultUser, DEFAULTS.defaultPassword, DEFAULTS.defaultAccount, { id: PROJECT }));
    expect(r.status, r.text).toBe(201);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await sendWithToken(t.node.port, r.token!, method, path, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
      return res.body;
    };
    return {
      phones: async (): Promise<{ phone_id: string; phone_name: string; status: number }[]> => (await call('GET', `/v1/${PROJECT}/cloud-phone/phones?limit=200`)).phones,
      rule: (body: unknown) => call('POST', `/_opencph/v1/${PROJECT}/rules`, body),
      held: async (): Promise<{ job_id: string; phone_id: string }[]> => (await call('GET', `/_opencph/v1/${PROJECT}/held-jobs`)).jobs,
      release: (jobId: string) => call('POST', `/_opencph/v1/${PROJECT}/jobs/${jobId}/release`, {}),
      faults: (body: unknown) => call('POST', `/_opencph/v1/${PROJECT}/faults`, body),
    };
  }

  async function login(page: Page, t: TestNode, password: string = DEFAULTS.defaultPassword): Promise<void> {
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('User').fill(DEFAULTS.defaultUser);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  /** How long the page may take to show what the server did. */
  const WAIT = { timeout: 10_000, interval: 50 };
  const tile = (page: Page, phoneId: string) => page.locator(`li.tile[data-phone-id="${phoneId}"]`);

  it('logs in with a user and password, keeps the session on reload, and logs out', async () => {
    const t = await start();
    const { page, errors } = await openPage(browser);
    await login(page, t, 'not-the-password');
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toContain('user name or password is wrong');

    await page.getByLabel('Password').fill(DEFAULTS.defaultPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    await expect.poll(() => page.getByTestId('live-mode').textContent(), WAIT).toBe('Live');
    await expect(page.getByText(`${DEFAULTS.defaultUser} · `)).toBeDefined();

    await page.reload();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();

    // A token the server no longer takes brings the login back, saying why.
    await page.getByLabel('Password').fill(DEFAULTS.defaultPassword);
    await page.getByLabel('User').fill(DEFAULTS.defaultUser);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    await page.evaluate(() => {
      const key = 'opencph.console.session';
      sessionStorage.setItem(key, JSON.stringify({ ...JSON.parse(sessionStorage.getItem(key)!), token: 'no-longer-valid' }));
    });
    await page.reload();
    await expect.poll(() => page.getByRole('status').first().textContent(), WAIT).toContain('Your session has ended');
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    // Only the wrong password's 401 was an error; the page itself had none.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await page.close();
  });

  it('follows a batch restart live: tiles and progress change as the jobs run, without reading the fleet again', async () => {
    // A restart takes 3 × the simulated delay: long enough to see the phone restarting.
    const t = await start({ simDelayMs: 1000 });
    const c = await api(t);
    const phones = (await c.phones()).sort((a, b) => a.phone_name.localeCompare(b.phone_name));
    const [held, quick] = [phones[0]!, phones[1]!];
    await c.rule({ match: { operation: 'phone.restart', phone_id: held.phone_id, times: 1 }, outcome: { hang: true } });

    const { page, errors } = await openPage(browser);
    let fleetReads = 0;
    page.on('request', (r) => {
      if (/\/cloud-phone\/phones\?/.test(r.url())) fleetReads++;
    });
    await login(page, t);
    await expect.poll(() => page.getByTestId('live-mode').textContent(), WAIT).toBe('Live');
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    const readsBefore = fleetReads;

    // One phone chosen with the keyboard, one with the mouse.
    await page.getByLabel(`Select ${held.phone_name}`).focus();
    await page.keyboard.press('Space');
    await page.getByLabel(`Select ${quick.phone_name}`).click();
    await page.getByRole('region', { name: 'Batch actions' }).getByRole('button', { name: 'Restart…' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.textContent(), WAIT).toContain(held.phone_name);
    await dialog.getByRole('button', { name: 'Restart', exact: true }).click();
    await expect.poll(() => page.getByTestId('outcome-request').textContent(), WAIT).toMatch(/^[0-9a-f]{32}$/);

    // The phone the rule lets run restarts and comes back; the tiles follow the events.
    await expect.poll(() => tile(page, quick.phone_id).locator('.status').textContent(), WAIT).toBe('restarting');
    await expect.poll(() => tile(page, quick.phone_id).getAttribute('data-status'), WAIT).toBe('2');

    // The request's progress on the jobs view follows too: one job done, the held one running, then both done.
    await page.getByTestId('outcome-request').click();
    const progress = page.locator('section .progress');
    await expect.poll(() => progress.textContent(), WAIT).toContain('1 succeeded, 0 failed, 1 running of 2');
    const job = await waitFor(async () => (await c.held()).find((j) => j.phone_id === held.phone_id));
    await c.release(job.job_id);
    await expect.poll(() => progress.textContent(), WAIT).toContain('2 succeeded, 0 failed, 0 running of 2');
    await expect.poll(() => page.locator('table.jobs tbody tr[data-status="2"]').count(), WAIT).toBe(2);
    expect(fleetReads).toBe(readsBefore);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("runs a shell command from a phone's page and shows its apps, files and jobs", async () => {
    const t = await start();
    const c = await api(t);
    const phone = (await c.phones())[0]!;
    const { page, errors } = await openPage(browser);
    await login(page, t);
    await page.getByRole('link', { name: phone.phone_name }).click();
    await page.getByRole('heading', { name: phone.phone_name }).waitFor();
    await page.getByRole('button', { name: 'Read apps and files' }).click();
    await expect.poll(() => page.getByTestId('files').textContent(), WAIT).toContain('Download');

    const box = page.getByLabel(/^Command/);
    await box.fill('echo hello from the console');
    await box.press('Enter');
    await expect.poll(() => page.getByTestId('shell-run').first().textContent(), WAIT).toContain('hello from the console');

    await box.fill('ls /no/such/dir');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByTestId('shell-run').first().textContent(), WAIT).toContain('CPS.0902');

    // Its recent jobs, with their operations: the two commands and the read of apps and files.
    await expect.poll(() => page.locator('table.jobs tbody tr').count(), WAIT).toBe(3);
    expect(await page.locator('table.jobs tbody tr').first().textContent()).toContain('phone.shell');

    // A stopped phone: no Stop, no reading; restarted, the apps and files are read again by themselves.
    await page.getByRole('button', { name: 'Stop…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop', exact: true }).click();
    await expect.poll(() => page.getByTestId('phone-status').textContent(), WAIT).toBe('stopped');
    expect(await page.getByRole('button', { name: 'Stop…' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Read again' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Restart…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restart', exact: true }).click();
    await expect.poll(() => page.getByTestId('phone-status').textContent(), WAIT).toBe('running');
    await expect.poll(() => page.locator('table.jobs tbody tr').count(), WAIT).toBe(6);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a failed job's error code and message", async () => {
    const t = await start();
    const c = await api(t);
    const phone = (await c.phones())[0]!;
    await c.rule({ match: { operation: 'phone.restart', phone_id: phone.phone_id, times: 1 }, outcome: { fail: { error_code: 'CPS.0022', error_msg: 'Not available phone.' } } });
    const { page, errors } = await openPage(browser);
    await login(page, t);
    await page.getByRole('link', { name: phone.phone_name }).click();
    await page.getByRole('button', { name: 'Restart…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restart', exact: true }).click();
    // The note of the action follows its request and names the failure.
    await expect.poll(() => page.getByTestId('outcome-failures').textContent(), WAIT).toBe(`${phone.phone_name}: CPS.0022 Not available phone.`);
    await page.getByTestId('outcome-request').click();
    const row = page.locator('table.jobs tbody tr').first();
    await expect.poll(() => row.getAttribute('data-status'), WAIT).toBe('-1');
    expect(await row.textContent()).toContain('CPS.0022 Not available phone.');
    await expect.poll(() => page.locator('section .progress').textContent(), WAIT).toContain('0 succeeded, 1 failed, 0 running of 1');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows every job of a request past ListJobs' page of 100, and survives a malformed address", async () => {
    const t = await start({ servers: 3, phonesPerServer: 40 });
    const c = await api(t);
    const phones = await c.phones();
    expect(phones).toHaveLength(120);
    const { page, errors } = await openPage(browser);
    await login(page, t);
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(120);
    await page.getByLabel('Select all shown').check();
    await page.getByRole('region', { name: 'Batch actions' }).getByRole('button', { name: 'Stop…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByTestId('outcome-request').click();
    await expect.poll(() => page.locator('table.jobs tbody tr').count(), WAIT).toBe(120);
    await expect.poll(() => page.locator('table.jobs caption').textContent(), WAIT).toBe('120 jobs');

    await page.goto(`${t.url}/console/#/phones/%E0`);
    await expect.poll(() => page.getByRole('alert').first().textContent(), WAIT).toContain('CPS.0004');
    expect(errors.filter((e) => !/40[04]/.test(e))).toEqual([]);
    await page.close();
  });

  it('says when the server stops answering, and catches up when it answers again', async () => {
    const t = await start();
    const c = await api(t);
    const phone = (await c.phones())[0]!;
    const { page } = await openPage(browser);
    await login(page, t);
    await expect.poll(() => page.getByTestId('live-mode').textContent(), WAIT).toBe('Live');
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    // Every call refused at the connection, as when the server is down; the open stream is cut.
    await page.route(`${t.url}/**`, (route) => route.abort('connectionrefused'));
    await page.evaluate(() => window.stop());
    await expect.poll(() => page.getByTestId('live-mode').textContent(), WAIT).toBe('Not connected');
    await expect.poll(() => page.getByRole('alert').first().textContent(), WAIT).toContain('The server stopped answering');
    // Meanwhile a phone changes; once the server answers, the page reads everything again.
    await c.faults({ phones: [{ phone_id: phone.phone_id, status: -7 }] });
    await page.unroute(`${t.url}/**`);
    await expect.poll(() => page.getByTestId('live-mode').textContent(), { ...WAIT, timeout: 15_000 }).toBe('Live');
    await expect.poll(() => tile(page, phone.phone_id).locator('.status').textContent(), WAIT).toBe('abnormal');
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  it('acts only on selected phones that the filters show', async () => {
    const t = await start();
    const c = await api(t);
    const phones = (await c.phones()).sort((a, b) => a.phone_name.localeCompare(b.phone_name));
    const { page } = await openPage(browser);
    await login(page, t);
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    await page.getByLabel('Select all shown').check();
    await expect.poll(() => page.getByRole('region', { name: 'Batch actions' }).textContent(), WAIT).toContain('8 phones selected');
    await page.getByRole('searchbox', { name: 'Name' }).fill(phones[0]!.phone_name);
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(1);
    await expect.poll(() => page.getByRole('region', { name: 'Batch actions' }).textContent(), WAIT).toContain('1 phone selected');
    await page.getByRole('searchbox', { name: 'Name' }).fill('');
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    expect(await page.getByRole('region', { name: 'Batch actions' }).textContent()).toContain('1 phone selected');
    await page.close();
  });

  it('polls where the server has no event stream', async () => {
    const t = await start();
    const c = await api(t);
    const phone = (await c.phones())[0]!;
    const { page } = await openPage(browser);
    await page.route('**/_opencph/v1/*/events**', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"error_code":"APIGW.0101","error_msg":"no"}' }));
    await login(page, t);
    await expect.poll(() => page.getByTestId('live-mode').textContent(), WAIT).toBe('Polling every 5 s');
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    await c.faults({ phones: [{ phone_id: phone.phone_id, status: -7 }] });
    await expect.poll(() => tile(page, phone.phone_id).locator('.status').textContent(), { ...WAIT, timeout: 12_000 }).toBe('abnormal');
    await page.close();
  });

  it('is usable by keyboard and meets WCAG 2 AA (axe-core) on every view', async () => {
    const t = await start();
    const c = await api(t);
    const phone = (await c.phones())[0]!;
    const { page, errors } = await openPage(browser);
    let batches = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/phones/batch-')) batches++;
    });
    await page.goto(`${t.url}/console/`);
    expect(await accessibilityViolations(page)).toEqual([]);
    // The whole login by keyboard.
    await page.getByLabel('User').focus();
    await page.keyboard.type(DEFAULTS.defaultUser);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEFAULTS.defaultPassword);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('li.tile').count(), WAIT).toBe(8);
    expect(await accessibilityViolations(page)).toEqual([]);

    // A dialog closed with Escape sends nothing, and gives the focus back.
    await page.getByLabel(`Select ${phone.phone_name}`).check();
    const reset = page.getByRole('region', { name: 'Batch actions' }).getByRole('button', { name: 'Reset…' });
    await reset.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count(), WAIT).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Reset…');
    expect(batches).toBe(0);

    await page.getByRole('link', { name: phone.phone_name }).click();
    await page.getByRole('button', { name: 'Read apps and files' }).click();
    await expect.poll(() => page.getByTestId('files').count(), WAIT).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
