import AxeBuilder from '@axe-core/playwright';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { dashboardDir, DASHBOARD_CSP } from '../apps/config-service/src/dashboard/dashboard-site';
import { ApiClient, eventually, HttpsConsumer, TestPlatform } from '@app/testing';
import { useHarness } from './support/harness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'test-results', 'dashboard');

jest.setTimeout(120_000);

/**
 * The dashboard in Debian's Chromium against the real services: config service (which serves the
 * page and proxies the approval API), approval service, one in-process delivery node, a real HTTPS
 * consumer. One account, two people: alice (developer, approver, entity manager) and bob (developer,
 * approver). The flows run in order and share the browser.
 */
describe('dashboard in a browser', () => {
  const h = useHarness({
    env: { DELIVERY_PARTITIONS: '4' },
    consumer: (r) =>
      r.path === '/token'
        ? { status: 200, body: JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 }), headers: { 'content-type': 'application/json' } }
        : { status: 200, body: 'ok' },
    approval: true,
    config: true,
    node: true,
  });
  let platform: TestPlatform;
  let consumer: HttpsConsumer;
  let base: string;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceToken: string;
  let bobToken: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const axeReport: Record<string, { violations: { id: string; impact: string | null; nodes: number }[] }> = {};

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    if (!existsSync(join(dashboardDir(), 'index.html'))) throw new Error(`the dashboard is not built in ${dashboardDir()}: run npm run build`);
    mkdirSync(SHOTS, { recursive: true });
    ({ platform, consumer } = h);
    base = h.api.baseUrl;
    const acct = await platform.account('Acme Payments');
    aliceToken = await acct.token('alice', ['developer', 'approver', 'entity_manager']);
    bobToken = await acct.token('bob', ['developer', 'approver']);
    alice = new ApiClient(base, aliceToken);
    bob = new ApiClient(base, bobToken);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    h.onClose(() => browser.close());
    context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    writeFileSync(join(SHOTS, 'axe.json'), JSON.stringify(axeReport, null, 2));
  });

  async function shot(name: string) {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** axe-core over the whole page: no serious or critical violations. */
  async function accessible(name: string) {
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    axeReport[name] = { violations: result.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, nodes: v.nodes.length })) };
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
  }

  async function signIn(token: string) {
    await page.goto(`${base}/#/webhooks`);
    await page.getByLabel('API token').fill(token);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#account-name');
  }

  async function signOut() {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('#token');
  }

  const row = (name: string) => page.locator('#webhooks tbody tr', { has: page.locator('th', { hasText: new RegExp(`^${name}$`) }) });
  const hookNamed = async (api: ApiClient, name: string) => ((await api.get('/v2/webhooks')).body.webhooks as { id: string; name: string }[]).find((w) => w.name === name);

  it('serves the page with a strict content security policy and routes the approval API on the same origin', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)![1];
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');

    // The approval service through the config service's origin, with its own auth and answers.
    expect((await fetch(`${base}/approval-api/v2/approval-policies/webhooks`)).status).toBe(401);
    const policy = await alice.get('/approval-api/v2/approval-policies/webhooks');
    expect(policy.status).toBe(200);
    expect(policy.body).toMatchObject({ enabled: false });
    const list = await alice.get('/approval-api/v2/approvals?status=PENDING');
    expect(list.body).toEqual({ approvals: [], next_page_cursor: '' });
    expect((await alice.get('/approval-api/metrics')).status).toBe(404);
    // The config API is unchanged beside it.
    expect((await alice.get('/v2/me')).body).toEqual({
      account_id: expect.any(String),
      account_name: 'Acme Payments',
      user: 'alice',
      roles: ['developer', 'approver', 'entity_manager'],
    });
  });

  it('signs in: a bad token is refused, then the account and the empty state show', async () => {
    await page.goto(base);
    await page.waitForSelector('#token');
    await accessible('sign-in');
    await shot('01-sign-in');
    await page.getByLabel('API token').fill('wht_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#signin-error:has-text("not valid")');
    await signIn(aliceToken);
    expect(await page.textContent('#account-name')).toBe('Acme Payments');
    await page.waitForSelector('#webhooks-empty:has-text("No webhooks yet")');
    expect(await page.getByRole('link', { name: 'Approvals', exact: true }).count()).toBe(1);
    await accessible('webhooks-empty');
    await shot('02-webhooks-empty');
  });

  it('create (API key): field errors from the problem document beside their fields, then the signing secret shown once', async () => {
    await page.getByRole('link', { name: 'Create Webhook' }).click();
    await page.getByLabel('Name', { exact: true }).fill('payments');
    await page.getByLabel('Endpoint URL').fill('http://insecure.example.com/hook');
    await page.getByLabel('Key', { exact: true }).fill('dash-secret-1234');
    await page.getByLabel('Select all Identity events').check();
    await page.getByRole('button', { name: 'Choose Transfer types' }).click();
    await page.getByLabel('transfer.crypto_deposit.completed').check();
    expect(await page.inputValue('#f-rate')).toBe('10');
    await page.getByLabel('Rate limit (requests per second)').fill('0');
    await page.getByRole('button', { name: 'Create Webhook' }).click();
    await page.waitForSelector('[data-field="url"]');
    expect(await page.textContent('[data-field="url"]')).toMatch(/https/i);
    expect(await page.textContent('[data-field="rate_limit"]')).toMatch(/1/);
    // Beside their fields: the input points at its message.
    expect(await page.getAttribute('#f-url', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#f-url', 'aria-describedby')).toContain('f-url-error');
    expect((await alice.get('/v2/webhooks')).body.webhooks).toHaveLength(0);
    await accessible('create-with-errors');
    await shot('03-create-field-errors');

    await page.getByLabel('Endpoint URL').fill(`${consumer.url}/api-key`);
    await page.getByLabel('Rate limit (requests per second)').fill('25');
    await page.getByRole('button', { name: 'Create Webhook' }).click();
    await page.waitForSelector('#signing-secret');
    const secret = await page.inputValue('#signing-secret');
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.waitForSelector('#copy-status:has-text("Copied")');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await accessible('signing-secret');
    await shot('04-signing-secret');

    const created = await hookNamed(alice, 'payments');
    expect(await alice.get(`/v2/webhooks/${created!.id}`)).toMatchObject({
      body: {
        url: `${consumer.url}/api-key`,
        auth_type: 'API_KEY',
        api_key: { header: 'X-Api-Key', key: '****1234' },
        rate_limit: 25,
        event_types: ['identity.*', 'transfer.crypto_deposit.completed'],
        status: 'ACTIVE',
      },
    });
    await page.getByRole('link', { name: /I have saved it/ }).click();
    await page.waitForSelector('#settings');
    // Shown once: gone from the page after leaving the panel, and never in the API again.
    expect(await page.content()).not.toContain(secret);
    expect(await page.content()).not.toContain('dash-secret-1234');
    expect(JSON.stringify((await alice.get(`/v2/webhooks/${created!.id}`)).body)).not.toContain(secret);
  });

  it('create (OAuth): the auth type switches the credential fields; the rate limit defaults to 10', async () => {
    await page.goto(`${base}/#/webhooks/new`);
    await page.getByLabel('Name', { exact: true }).fill('orchestration-oauth');
    await page.getByLabel('Endpoint URL').fill(`${consumer.url}/oauth`);
    await page.getByLabel('OAuth 2.0 client credentials').check();
    expect(await page.locator('#f-key').count()).toBe(0);
    await page.getByLabel('Token URL').fill(`${consumer.url}/token`);
    await page.getByLabel('Client ID').fill('client-one');
    await page.getByLabel('Client secret').fill('oauth-secret-9876');
    await page.getByLabel('Select all Orchestration events').check();
    await accessible('create-oauth');
    await shot('05-create-oauth');
    await page.getByRole('button', { name: 'Create Webhook' }).click();
    await page.waitForSelector('#signing-secret');
    const hook = await hookNamed(alice, 'orchestration-oauth');
    expect((await alice.get(`/v2/webhooks/${hook!.id}`)).body).toMatchObject({
      auth_type: 'OAUTH',
      api_key: null,
      oauth: { client_url: `${consumer.url}/token`, client_id: 'client-one', client_secret: '****9876' },
      rate_limit: 10,
      event_types: ['orchestration.*'],
    });
  });

  it('lists both with every column and the actions View, Test, Delete', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.waitForSelector('#webhooks');
    const headers = await page.locator('#webhooks thead th').allTextContents();
    expect(headers).toEqual(['Name', 'URL', 'Auth Type', 'Created At', 'Updated At', 'Status', 'Actions']);
    const cells = await row('payments').locator('th, td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['payments', `${consumer.url}/api-key`, 'API key']);
    expect(cells[3]).toMatch(/\d/);
    expect(cells[4]).toMatch(/\d/);
    expect(cells[5]).toBe('Active');
    expect(cells[6]).toBe('ViewTestDelete');
    expect(await row('orchestration-oauth').locator('td').nth(1).textContent()).toBe('OAuth 2.0');
    await accessible('webhooks-list');
    await shot('06-webhooks-list');
  });

  it('views (secrets masked) and edits with "Update Webhook"', async () => {
    await row('payments').getByRole('link', { name: 'View payments' }).click();
    await page.waitForSelector('#settings');
    const settings = await page.textContent('#settings');
    expect(settings).toContain('****1234');
    expect(settings).toContain('25 requests per second');
    await page.waitForSelector('#deliveries-empty');
    await accessible('webhook-view');
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.waitForSelector('#f-rate');
    expect(await page.inputValue('#f-name')).toBe('payments');
    await page.getByLabel('Rate limit (requests per second)').fill('40');
    await accessible('webhook-edit');
    await shot('07-webhook-edit');
    await page.getByRole('button', { name: 'Update Webhook' }).click();
    await page.waitForSelector('#notice:has-text("updated")');
    await page.waitForSelector('#settings:has-text("40 requests per second")');
    const hook = await hookNamed(alice, 'payments');
    expect((await alice.get(`/v2/webhooks/${hook!.id}`)).body).toMatchObject({ rate_limit: 40, api_key: { key: '****1234' } });
  });

  it('tests with a chosen event type and sees the attempt appear', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await row('payments').getByRole('link', { name: 'Test payments' }).click();
    await page.waitForSelector('#test-type');
    await eventually(() => page.evaluate("document.activeElement?.id === 'test-type'"), { what: 'the event type select to take focus' });
    await page.getByLabel('Event type').selectOption('transfer.crypto_deposit.completed');
    await page.getByRole('button', { name: 'Send Test Event' }).click();
    await page.waitForSelector('#test-status:has-text("delivered: HTTP 200")', { timeout: 60_000 });
    const attempt = page.locator('#deliveries tbody tr').first();
    expect(await attempt.textContent()).toContain('transfer.crypto_deposit.completed');
    expect(await attempt.locator('td').nth(4).textContent()).toBe('200');
    const received = consumer.requests.filter((r) => r.path === '/api-key');
    expect(received).toHaveLength(1);
    expect(received[0].headers['x-api-key']).toBe('dash-secret-1234');
    expect(JSON.parse(received[0].body)).toMatchObject({ type: 'transfer.crypto_deposit.completed', is_test: true });
    await accessible('webhook-view-with-delivery');
    await shot('08-webhook-view-test-delivered');
  });

  it('events: filters, undelivered count, payload and redelivery', async () => {
    await page.getByRole('link', { name: 'Events' }).click();
    await page.waitForSelector('#undelivered-summary:has-text("No events")');
    await page.getByLabel('Test').check();
    await page.getByLabel('Event type').selectOption('transfer.crypto_deposit.completed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForSelector('#events tbody tr');
    expect(await page.locator('#events tbody tr').count()).toBe(1);
    expect(await page.textContent('#undelivered-summary')).toContain('0 not yet delivered');
    await page.locator('#events [data-act="payload"]').first().click();
    await page.waitForSelector('#event-payload');
    expect(JSON.parse((await page.textContent('#event-payload'))!)).toEqual(expect.any(Object));
    await page.getByRole('button', { name: /Redeliver/ }).click();
    await page.waitForSelector('#notice:has-text("nothing to redeliver")');
    // A range that ends before the event hides it.
    await page.getByLabel('Created until').fill('2020-01-01T00:00:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForSelector('#undelivered-summary:has-text("No events")');
    await page.getByLabel('Created until').fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForSelector('#events tbody tr');
    await page.locator('#events [data-act="payload"]').first().click();
    await page.waitForSelector('#event-payload');
    await accessible('events');
    await shot('09-events');
  });

  it('deletes after a confirmation that names the webhook', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await row('orchestration-oauth').getByRole('button', { name: 'Delete orchestration-oauth' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete webhook "orchestration-oauth"?' });
    await dialog.waitFor();
    await accessible('delete-dialog');
    await shot('10-delete-confirmation');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await row('orchestration-oauth').count()).toBe(1);
    await row('orchestration-oauth').getByRole('button', { name: 'Delete orchestration-oauth' }).click();
    await dialog.getByRole('button', { name: 'Delete webhook' }).click();
    await page.waitForSelector('#notice:has-text("Webhook \\"orchestration-oauth\\" deleted.")');
    await row('orchestration-oauth').waitFor({ state: 'detached' });
    expect(await hookNamed(alice, 'orchestration-oauth')).toBeUndefined();
  });

  it('approvals: alice turns them on and submits a change; the four-eyes rule keeps her from approving it; bob approves; it is applied', async () => {
    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    await page.waitForSelector('#policy-state:has-text("off")');
    await page.getByLabel('Require approval for webhook changes').check();
    await page.getByLabel('Required approvals (1–5)').fill('1');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.waitForSelector('#policy-state:has-text("on")');

    const hook = await hookNamed(alice, 'payments');
    await page.goto(`${base}/#/webhooks/${hook!.id}/edit`);
    await page.waitForSelector('#save:has-text("Submit for Approval")');
    await page.getByLabel('Name', { exact: true }).fill('payments-v2');
    await page.getByLabel('Rate limit (requests per second)').fill('50');
    await page.getByRole('button', { name: 'Submit for Approval' }).click();
    await page.waitForSelector('#notice:has-text("awaits approval")');
    await page.waitForSelector('.badge:has-text("Update pending approval")');

    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    const request = page.locator('#pending-requests article').first();
    await request.waitFor();
    await request.locator('h3', { hasText: 'Update webhook "payments"' }).waitFor();
    const diff = await request.locator('table.diff tbody tr').allTextContents();
    expect(diff).toEqual(['namepaymentspayments-v2', 'rate_limit4050']);
    expect(await request.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    expect(await request.textContent()).toContain('Four-eyes rule: you made this request');
    expect(await request.getByRole('button', { name: 'Cancel request' }).isEnabled()).toBe(true);
    await accessible('approvals-requester');
    await shot('11-approvals-pending-requester');

    await signOut();
    await signIn(bobToken);
    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    const forBob = page.locator('#pending-requests article').first();
    await forBob.waitFor();
    expect(await forBob.getByRole('button', { name: 'Cancel request' }).isDisabled()).toBe(true);
    expect(await forBob.textContent()).toContain('Only the requester (alice) can cancel');
    expect(await page.getByRole('button', { name: 'Save policy' }).isDisabled()).toBe(true);
    await accessible('approvals-approver');
    await shot('12-approvals-pending-approver');
    await forBob.getByRole('button', { name: 'Approve' }).click();
    await page.waitForSelector('#notice:has-text("Approved")');
    await page.waitForSelector('#pending-empty');
    await page.waitForSelector('#decided tbody tr:has-text("APPROVED")');
    await accessible('approvals-decided');
    await shot('13-approvals-decided');

    await eventually(async () => (await bob.get(`/v2/webhooks/${hook!.id}`)).body.status === 'ACTIVE', { what: 'the approved change applied' });
    await page.goto(`${base}/#/webhooks/${hook!.id}`);
    await page.waitForSelector('#settings:has-text("50 requests per second")');
    expect(await page.textContent('h1')).toBe('Webhook "payments-v2"');
    const history = await page.locator('#approval-history tbody tr').first().textContent();
    expect(history).toMatch(/UPDATE.*alice.*bob.*APPROVED.*APPLIED/);
    await shot('14-webhook-view-approval-history');
  });

  it('a create that awaits approval still shows the signing secret once; it is the secret the webhook signs with once approved', async () => {
    await page.goto(`${base}/#/webhooks/new`);
    await page.waitForSelector('#save:has-text("Create Webhook")');
    await page.getByLabel('Name', { exact: true }).fill('pending-create');
    await page.getByLabel('Endpoint URL').fill(`${consumer.url}/pending`);
    await page.getByLabel('Key', { exact: true }).fill('pending-key-0000');
    await page.getByLabel('Select all Identity events').check();
    await page.getByRole('button', { name: 'Create Webhook' }).click();
    await page.waitForSelector('#pending-note');
    const secret = await page.inputValue('#signing-secret');
    expect(secret).toMatch(/^whsec_/);
    await shot('15-signing-secret-awaiting-approval');
    const hook = await hookNamed(bob, 'pending-create');
    expect((await bob.get(`/v2/webhooks/${hook!.id}`)).body.status).toBe('PENDING');

    // alice approves it (the API's own route is enough here; the browser flow was shown above).
    const approvalId = (await bob.get(`/v2/webhooks/${hook!.id}`)).body.pending_approval_id;
    const approved = await alice.post(`/approval-api/v2/approvals/${approvalId}/approve`);
    expect([approved.status, approved.text]).toEqual([200, expect.any(String)]);
    await eventually(async () => (await bob.get(`/v2/webhooks/${hook!.id}`)).body.status === 'ACTIVE', { what: 'the approved create applied' });
    expect((await bob.post(`/v2/webhooks/${hook!.id}/test`, { event_type: 'identity.approved' })).status).toBe(202);
    await consumer.waitFor((reqs) => reqs.some((r) => r.path === '/pending'), 60_000);
    const req = consumer.requests.find((r) => r.path === '/pending')!;
    expect(() => new StandardWebhook(secret).verify(req.body, req.headers)).not.toThrow();
  });

  it('a delete that awaits approval says so honestly', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await row('pending-create').getByRole('button', { name: 'Delete pending-create' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await page.waitForSelector('#notice:has-text("Deletion of \\"pending-create\\" awaits approval")');
    expect(await page.textContent('#notice')).not.toMatch(/ deleted\./);
    await page.waitForSelector('#webhooks tr:has-text("Deletion pending approval")');
    await accessible('webhooks-list-pending-deletion');
    await shot('16-webhooks-pending-deletion');
  });

  it('pages the list, and the requester cancels a pending create from Approvals', async () => {
    for (const n of [1, 2, 3, 4]) {
      const r = await bob.post('/v2/webhooks', {
        name: `paged-${n}`,
        url: `${consumer.url}/paged-${n}`,
        auth_type: 'API_KEY',
        api_key: { header: 'X-Api-Key', key: `paged-key-${n}` },
        event_types: ['identity.*'],
      });
      expect(r.status).toBe(202);
    }
    await page.goto(`${base}/#/events`);
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.waitForSelector('#webhooks');
    expect(await page.locator('#webhooks tbody tr').count()).toBe(5);
    const pager = page.getByRole('navigation', { name: 'Webhook pages' });
    expect(await pager.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Next page' }).click();
    await page.waitForSelector('.pager:has-text("Page 2")');
    expect(await page.locator('#webhooks tbody tr').count()).toBe(1);
    expect(await row('paged-4').count()).toBe(1);
    await pager.getByRole('button', { name: 'Previous page' }).click();
    await page.waitForSelector('.pager:has-text("Page 1")');

    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    const request = page.locator('#pending-requests article', { has: page.locator('h3', { hasText: 'Create webhook "paged-4"' }) });
    await request.waitFor();
    await request.getByRole('button', { name: 'Cancel request' }).click();
    await page.waitForSelector('#notice:has-text("Cancelled: Create webhook")');
    await request.waitFor({ state: 'detached' });
    await eventually(async () => !(await hookNamed(bob, 'paged-4')), { what: 'the cancelled create to leave no webhook' });
  });

  it('an approver rejects a pending create (no webhook is left); a developer-only user gets no Approvals tab', async () => {
    await signOut();
    await signIn(aliceToken);
    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    const request = page.locator('#pending-requests article', { has: page.locator('h3', { hasText: 'Create webhook "paged-3"' }) });
    await request.waitFor();
    await request.getByRole('button', { name: 'Reject' }).click();
    await page.waitForSelector('#notice:has-text("Rejected: Create webhook")');
    await request.waitFor({ state: 'detached' });
    await page.waitForSelector('#decided tbody tr:has-text("REJECTED")');
    await eventually(async () => !(await hookNamed(bob, 'paged-3')), { what: 'the rejected create to leave no webhook' });

    const other = await platform.account('developers-only');
    await signOut();
    await signIn(await other.token('carol', ['developer']));
    await page.waitForSelector('#account-name:has-text("developers-only")');
    expect(await page.getByRole('link', { name: 'Approvals', exact: true }).count()).toBe(0);
    await page.goto(`${base}/#/approvals`);
    await page.waitForSelector('text=The Approvals tab needs the approver or entity manager role.');
    await signOut();
    await signIn(aliceToken);
  });

  it('stays usable on a narrow window, and the page never broke its content security policy', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.waitForSelector('#webhooks');
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(1);
    await accessible('webhooks-list-narrow');
    await shot('17-webhooks-list-narrow');
    await page.getByRole('link', { name: 'Approvals', exact: true }).click();
    await page.waitForSelector('#policy-state');
    expect(Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'))).toBeLessThanOrEqual(1);
    await shot('18-approvals-narrow');
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
