import { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { Browser, chromium, Page } from 'playwright-core';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { ApiClient, listen, startTestPlatform, TestPlatform } from '@app/testing';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The dashboard in a real browser: sign in, create with a validation error first, test-send, delete. */
describe('dashboard', () => {
  let platform: TestPlatform;
  let app: INestApplication;
  let base: string;
  let api: ApiClient;
  let token: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    platform = await startTestPlatform();
    app = await createConfigServiceApp();
    base = await listen(app);
    const acct = await platform.account();
    token = await acct.token('alice', ['developer']);
    api = new ApiClient(base, token);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await platform?.close();
  });

  it('refuses a bad token, then signs in', async () => {
    await page.goto(base);
    await page.fill('#token', 'wht_wrong');
    await page.click('#signin-button');
    await page.waitForSelector('#signin-error:has-text("not valid")');
    await page.fill('#token', token);
    await page.click('#signin-button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#webhooks:has-text("No webhooks yet")');
  });

  it('shows field errors from the problem document, then creates the webhook', async () => {
    await page.fill('#f-name', 'dash-hook');
    await page.fill('#f-url', 'http://insecure.example.com');
    await page.fill('#f-key', 'dash-secret-1234');
    await page.fill('#f-rate', '0');
    await page.selectOption('#f-events', ['identity.approved', 'transfer.*']);
    await page.click('#save');
    await page.waitForSelector('[data-field="url"]:has-text("https")');
    expect(await page.textContent('[data-field="rate_limit"]')).toMatch(/1/);
    expect((await api.get('/v2/webhooks')).body.webhooks).toHaveLength(0);

    await page.fill('#f-url', 'https://hooks.example.com/dash');
    await page.fill('#f-rate', '25');
    await page.click('#save');
    await page.waitForSelector('#notice:has-text("whsec_")');
    await page.waitForSelector('#webhooks tr:has-text("dash-hook")');
    const [created] = (await api.get('/v2/webhooks')).body.webhooks;
    expect(created).toMatchObject({ name: 'dash-hook', url: 'https://hooks.example.com/dash', rate_limit: 25, event_types: ['identity.approved', 'transfer.*'], api_key: { key: '****1234' } });
    expect(await page.content()).not.toContain('dash-secret-1234');
  });

  it('edits, sends a test event and deletes', async () => {
    await page.click('#webhooks tr:has-text("dash-hook") [data-act="edit"]');
    await page.fill('#f-rate', '40');
    await page.click('#save');
    await page.waitForSelector('#webhooks tr:has-text("40/s")');
    await page.click('#webhooks tr:has-text("dash-hook") [data-act="test"]');
    await page.waitForSelector('#notice:has-text("Test event")');
    expect((await api.get('/v2/events?is_test=true')).body.events).toHaveLength(1);
    page.once('dialog', (d) => void d.accept());
    await page.click('#webhooks tr:has-text("dash-hook") [data-act="delete"]');
    await page.waitForSelector('#webhooks:has-text("No webhooks yet")');
    expect((await api.get('/v2/webhooks')).body.webhooks).toHaveLength(0);
  });
});
