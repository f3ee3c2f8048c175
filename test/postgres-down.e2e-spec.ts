import { ApiClient, ApiResponse, eventually, startTcpProxy, TcpProxy, TestPlatform, testWebhook, viaProxy } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * PostgreSQL goes away under both services (their DATABASE_URL points at a TCP proxy the test
 * cuts): every API answers 503 problem documents with Retry-After, readiness goes red, and both
 * recover by themselves when the database is back, with nothing written twice or half.
 */

jest.setTimeout(180_000);

function expectUnavailable(res: ApiResponse, what: string): void {
  expect({ what, status: res.status }).toEqual({ what, status: 503 });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(res.body).toMatchObject({ status: 503, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
  // No driver message: it could name hosts, users or databases.
  expect(res.text).not.toMatch(/127\.0\.0\.1|ECONN|postgres/i);
}

describe('PostgreSQL unreachable', () => {
  let platform: TestPlatform;
  let proxy: TcpProxy;
  const h = useHarness({
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'fatal' },
    config: true,
    approval: true,
    // Only the services go through the proxy; the test's own ORM (platform.orm) stays direct.
    async prepare(h) {
      const db = new URL(h.platform.db.url);
      proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port || 5432) });
      h.onClose(() => proxy.close());
      process.env.DATABASE_URL = viaProxy(h.platform.db.url, proxy);
    },
  });
  let cfg: ApiClient;
  let apr: ApiClient;
  let cfgPublic: ApiClient;
  let aprPublic: ApiClient;

  beforeAll(async () => {
    ({ platform, api: cfgPublic, approvalApi: aprPublic } = h);
    h.onClose(() => proxy.restore());
    const acct = await platform.account();
    const token = await acct.token('alice', ['developer', 'approver', 'entity_manager']);
    cfg = cfgPublic.as(token);
    apr = aprPublic.as(token);
  });

  async function rows() {
    const conn = platform.orm.em.fork().getConnection();
    const webhooks = await conn.execute<{ name: string }[]>('select name from webhooks where deleted_at is null order by name');
    const outbox = await conn.execute<{ webhook_id: string; n: number }[]>(`select webhook_id, count(*)::int as n from webhook_outbox group by webhook_id`);
    const policies = await conn.execute<{ required_approvals: number }[]>('select required_approvals from approval_policies');
    return { webhooks: webhooks.map((w) => w.name), outbox, policies };
  }

  it.each(['refuse', 'blackhole'] as const)('answers 503 with Retry-After while the database is %sd, then recovers without a restart', async (mode) => {
    const before = `before-${mode}`;
    expect((await cfg.post('/v2/webhooks', testWebhook(before))).status).toBe(201);
    expect((await apr.put('/v2/approval-policies/webhooks', { enabled: false, required_approvals: 2 })).status).toBe(200);
    const baseline = await rows();

    proxy.cut(mode);
    const reads = [
      ['config GET /v2/webhooks', () => cfg.get('/v2/webhooks')],
      ['config GET /v2/events', () => cfg.get('/v2/events')],
      ['approval GET /v2/approvals', () => apr.get('/v2/approvals')],
      ['approval GET policy', () => apr.get('/v2/approval-policies/webhooks')],
    ] as const;
    const writes = [
      ['config POST /v2/webhooks', () => cfg.post('/v2/webhooks', testWebhook(`during-${mode}`))],
      ['approval PUT policy', () => apr.put('/v2/approval-policies/webhooks', { enabled: false, required_approvals: 3 })],
    ] as const;
    // Concurrently: a black-holed connect takes the driver's connect timeout to fail.
    const answers = await Promise.all([...reads, ...writes].map(async ([what, call]) => [what, await call()] as const));
    for (const [what, res] of answers) expectUnavailable(res, what);

    // Readiness is red (a 503 problem document too), and says which check failed.
    for (const [what, client] of [
      ['config', cfgPublic],
      ['approval', aprPublic],
    ] as const) {
      const health = await client.get('/health');
      expectUnavailable(health, `${what} /health`);
      expect(health.body.detail).toContain('database');
    }

    proxy.restore();
    for (const client of [cfgPublic, aprPublic])
      await eventually(async () => (await client.get('/health')).status === 200, { timeoutMs: 30_000, what: 'readiness after the database is back' });
    await eventually(async () => (await cfg.get('/v2/webhooks')).status === 200, { timeoutMs: 30_000, what: 'config service reads' });
    await eventually(async () => (await apr.get('/v2/approval-policies/webhooks')).status === 200, { timeoutMs: 30_000, what: 'approval service reads' });

    // Nothing the 503s refused was written, in whole or in part.
    expect(await rows()).toEqual(baseline);

    // Writes work again, once each.
    const after = `after-${mode}`;
    expect((await cfg.post('/v2/webhooks', testWebhook(after))).status).toBe(201);
    expect((await apr.put('/v2/approval-policies/webhooks', { enabled: false, required_approvals: 4 })).status).toBe(200);
    const now = await rows();
    expect(now.webhooks).toEqual([...baseline.webhooks, after].sort());
    expect(now.outbox.every((o) => o.n === 1)).toBe(true);
    expect(now.outbox).toHaveLength(now.webhooks.length);
    expect(now.policies).toEqual([{ required_approvals: 4 }]);
  });
});
