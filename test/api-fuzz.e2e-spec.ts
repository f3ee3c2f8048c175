import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { ApiClient, eventually, TestPlatform, testWebhook } from '@app/testing';
import { useHarness } from './support/harness';
import { appRoutes, Route } from './fuzz/app-routes';
import { hostileRequest, FuzzFixtures, FuzzRequest } from './fuzz/hostile-requests';
import { snapshotState, settledState } from './fuzz/state-snapshot';

/**
 * Hostile admin input, property-based: every route of both services gets fast-check generated
 * requests (bodies, query strings, path ids, headers, methods, content types). No answer may be a
 * 5xx; every 4xx is a problem document and leaves every table as it was. Per-route counts and the
 * 5xx count go to test-results/api-fuzz.json.
 */

jest.setTimeout(300_000);

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
/** Runs per route and the time budget for the whole file's fuzzing (a loaded 2-core machine). */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 300);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 75_000);
/** FUZZ_ROUTES=<regex> fuzzes only the matching routes ("config GET /v2/events"), to chase one finding. */
const ONLY = process.env.FUZZ_ROUTES ? new RegExp(process.env.FUZZ_ROUTES) : undefined;
/** An answer slower than this is a finding (a request must never hang a connection). */
const REQUEST_TIMEOUT_MS = 5_000;

interface RouteStats {
  requests: number;
  statuses: Record<string, number>;
  ms: number;
  slowest_ms: number;
  check_ms: number;
}

interface Finding {
  count: number;
  examples: { request: string; answer: string }[];
}

describe('hostile admin input (property-based)', () => {
  const h = useHarness({ env: { LOG_LEVEL: 'error' }, config: true, approval: true });
  let platform: TestPlatform;
  const bases: Record<Route['service'], string> = { config: '', approval: '' };
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let fixtures: FuzzFixtures;

  beforeAll(async () => {
    platform = h.platform;
    bases.config = h.api.baseUrl;
    bases.approval = h.approvalApi.baseUrl;
    h.onClose(() => agent.destroy());
    fixtures = await buildFixtures();
  });

  /** Two accounts with webhooks, test events and approval requests, and tokens of every role. */
  async function buildFixtures(): Promise<FuzzFixtures> {
    const make = async (name: string) => {
      const acct = await platform.account(name);
      const all = await acct.token(`${name}-all`, ['developer', 'approver', 'entity_manager', 'operator']);
      const cfg = new ApiClient(bases.config, all);
      const apr = new ApiClient(bases.approval, all);
      const webhooks: string[] = [];
      for (const n of ['one', 'two', 'three']) {
        const res = await cfg.post('/v2/webhooks', testWebhook(`${name}-${n}`));
        expect(res.status).toBe(201);
        webhooks.push(res.body.id);
      }
      const events: string[] = [];
      for (const w of webhooks.slice(0, 2)) {
        const res = await cfg.post(`/v2/webhooks/${w}/test`, { event_type: 'identity.approved' });
        expect(res.status).toBe(202);
        events.push(res.body.event_id);
      }
      expect((await apr.put('/v2/approval-policies/webhooks', { enabled: true, required_approvals: 1 })).status).toBe(200);
      const approvals: string[] = [];
      const pending = await cfg.patch(`/v2/webhooks/${webhooks[0]}`, { rate_limit: 7 });
      expect(pending.status).toBe(202);
      approvals.push(pending.body.pending_approval_id);
      const created = await cfg.post('/v2/webhooks', testWebhook(`${name}-pending`));
      expect(created.status).toBe(202);
      approvals.push(created.body.pending_approval_id);
      webhooks.push(created.body.id);
      const tokens = [
        all,
        await acct.token(`${name}-dev`, ['developer']),
        await acct.token(`${name}-approver`, ['approver']),
        await acct.token(`${name}-manager`, ['entity_manager']),
        await acct.token(`${name}-operator`, ['operator']),
      ];
      return { tokens, ids: [...webhooks, ...events, ...approvals] };
    };
    const own = await make('acme');
    const other = await make('globex');
    // The other account's token only ever meets acme's ids and its own.
    return { tokens: own.tokens, otherTokens: [other.tokens[0]], ownIds: own.ids, otherIds: other.ids };
  }

  function send(base: string, r: FuzzRequest): Promise<{ status: number; contentType: string; body: string }> {
    const url = new URL(base);
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: { status: number; contentType: string; body: string }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(v);
      };
      // An explicit length: without one Node's client sends a GET body unframed, and the server
      // would rightly read those bytes as the next request on the connection.
      const headers = r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
      const req = httpRequest({ agent, host: url.hostname, port: url.port, method: r.method, path: r.path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => finish({ status: 0, contentType: '', body: `no response: ${err.message}` }));
      });
      // Node's client hands the answer to a CONNECT to a 'connect' listener, with the body on the raw socket.
      req.on('connect', (res, socket, head) => {
        const chunks: Buffer[] = [head];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('error', () => undefined);
        socket.on('close', () => finish({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
      });
      // No answer at all (a reset, a hang-up, silence) is a finding like a 5xx, reported as status 0.
      req.on('error', (err) => finish({ status: 0, contentType: '', body: `no response: ${err.message}` }));
      const timer = setTimeout(() => {
        finish({ status: 0, contentType: '', body: `no answer within ${REQUEST_TIMEOUT_MS} ms` });
        req.destroy();
      }, REQUEST_TIMEOUT_MS);
      req.end(r.body);
    });
  }

  it('no request of any shape answers 5xx; every 4xx is a problem document and changes nothing', async () => {
    const routes = [...(await appRoutes(h.config, 'config')), ...(await appRoutes(h.approval, 'approval'))];
    // The list comes from the routers; this only guards against the enumeration silently finding nothing.
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /v2/webhooks', 'GET /v2/events', 'PUT /v2/approval-policies/webhooks', 'POST /v2/approvals/:id/approve']),
    );

    const stats: Record<string, RouteStats> = {};
    const findings: Record<string, Finding> = {};
    const conn = platform.orm.em.getConnection();
    let baseline = await settledState(conn);
    const deadline = Date.now() + BUDGET_MS;
    const perRouteMs = BUDGET_MS / routes.length;

    // fast-check's time limit abandons the run in progress (a race with a timer) without stopping
    // it: its request and its checks go on. The last run is awaited before the next route starts,
    // or its writes are blamed on the next route's first 4xx.
    let inFlight: Promise<unknown> = Promise.resolve();
    for (const [i, route] of routes.entries()) {
      const key = `${route.service} ${route.method} ${route.path}`;
      if (ONLY && !ONLY.test(key)) continue;
      const s: RouteStats = (stats[key] = { requests: 0, statuses: {}, ms: 0, slowest_ms: 0, check_ms: 0 });
      const started = Date.now();
      const checkOne = async (r: FuzzRequest): Promise<boolean> => {
        const sentAt = Date.now();
        const res = await send(bases[route.service], r);
        s.slowest_ms = Math.max(s.slowest_ms, Date.now() - sentAt);
        const checkAt = Date.now();
        s.requests++;
        s.statuses[res.status] = (s.statuses[res.status] ?? 0) + 1;
        const note = (problem: string) => {
          // Kept per kind (route, problem, status, start of the answer), a few examples each.
          const kind = `${key} | ${problem} | ${res.status} | ${res.body.slice(0, 60)}`;
          const f = (findings[kind] ??= { count: 0, examples: [] });
          f.count++;
          if (f.examples.length < 3)
            f.examples.push({
              request: `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers).slice(0, 300)} ${String(r.body ?? '').slice(0, 300)}`,
              answer: res.body.slice(0, 300),
            });
        };
        if (res.status >= 500 || res.status === 0) note(res.status ? '5xx' : 'no response');
        if (res.status >= 400 && res.status < 500) {
          if (!isProblem(res, r.method)) note('4xx that is not a problem document');
          const after = await snapshotState(conn);
          if (after !== baseline) {
            note('4xx that changed state');
            baseline = await settledState(conn);
          }
        } else {
          // 2xx/3xx may change things (and start background work): wait for it, then re-baseline.
          baseline = await settledState(conn);
        }
        s.check_ms += Date.now() - checkAt;
        return true;
      };
      await fc.assert(
        fc.asyncProperty(hostileRequest(route, fixtures), (r) => (inFlight = checkOne(r))),
        { seed: SEED + i, numRuns: RUNS_PER_ROUTE, interruptAfterTimeLimit: Math.max(1000, Math.min(perRouteMs, deadline - Date.now())), markInterruptAsFailure: false },
      );
      await inFlight;
      s.ms = Date.now() - started;
    }

    const fiveXx = Object.values(stats).reduce(
      (n, s) =>
        n +
        Object.entries(s.statuses)
          .filter(([st]) => Number(st) >= 500)
          .reduce((m, [, c]) => m + c, 0),
      0,
    );
    const total = Object.values(stats).reduce((n, s) => n + s.requests, 0);
    const dir = join(process.cwd(), 'test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'api-fuzz.json'),
      JSON.stringify({ seed: SEED, routes: Object.keys(stats).length, requests: total, five_xx: fiveXx, per_route: stats, findings }, null, 2),
    );
    process.stdout.write(
      `api-fuzz: ${total} requests over ${Object.keys(stats).length} routes, ${fiveXx} 5xx, ${Object.keys(findings).length} kinds of findings (seed ${SEED}; test-results/api-fuzz.json)\n`,
    );

    expect(Object.keys(findings)).toEqual([]);
    expect(Object.values(stats).every((st) => st.requests > 0)).toBe(true);
  });

  // One example per class of 5xx the fuzzing found, each closed as a class (see libs/http-common).
  describe('classes found by fuzzing', () => {
    const raw = (service: Route['service'], r: FuzzRequest) => send(bases[service], r);
    const auth = () => ({ authorization: `Bearer ${fixtures.tokens[0]}`, 'content-type': 'application/json' });
    const expectProblem = (res: { status: number; contentType: string; body: string }, status: number, type?: RegExp) => {
      expect(res.status).toBe(status);
      expect(res.contentType).toContain('application/problem+json');
      const p = JSON.parse(res.body);
      expect(p).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
      if (type) expect(p.type).toMatch(type);
    };

    it('untrusted depth: a body nested past 32 levels is a 400 before any recursive code runs, on both services', async () => {
      for (const depth of [33, 1_000, 10_000]) {
        const body = `{"event_types":${'['.repeat(depth)}${']'.repeat(depth)}}`;
        expectProblem(await raw('config', { method: 'POST', path: '/v2/webhooks', headers: auth(), body }), 400, /body-too-deep$/);
        expectProblem(
          await raw('approval', { method: 'PUT', path: '/v2/approval-policies/webhooks', headers: auth(), body: `{"enabled":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}` }),
          400,
          /body-too-deep$/,
        );
      }
      // 32 levels are still JSON the validator judges (and refuses by type).
      const ok = `{"event_types":${'['.repeat(31)}${']'.repeat(31)}}`;
      expectProblem(await raw('config', { method: 'POST', path: '/v2/webhooks', headers: auth(), body: ok }), 400, /validation-error$/);
    });

    it('timestamps the validator accepted but JS or PostgreSQL did not: now 400s, in filters and in cursors', async () => {
      for (const t of ['2026-01-01T00:00:00+24:00', '3259-11-16T10:00:00+03:79', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00']) {
        expectProblem(await raw('config', { method: 'GET', path: `/v2/events?created_at.gte=${encodeURIComponent(t)}`, headers: auth() }), 400, /validation-error$/);
        const cursor = Buffer.from(JSON.stringify({ t, id: fixtures.ownIds[0] })).toString('base64url');
        expectProblem(await raw('config', { method: 'GET', path: `/v2/events?page_cursor=${cursor}`, headers: auth() }), 400, /invalid-cursor$/);
        expectProblem(await raw('approval', { method: 'GET', path: `/v2/approvals?page_cursor=${cursor}`, headers: auth() }), 400, /invalid-cursor$/);
      }
      const res = await raw('config', { method: 'GET', path: `/v2/events?created_at.gte=${encodeURIComponent('2026-01-01T00:00:00-23:59')}`, headers: auth() });
      expect(res.status).toBe(200);
    });

    it('what the HTTP parser or router refuses is a problem document too, never a bare status line or a dropped connection', async () => {
      expectProblem(await raw('config', { method: 'X-WHATEVER', path: '/v2/webhooks', headers: auth() }), 400);
      expectProblem(await raw('approval', { method: 'GET', path: `/v2/approvals?page_cursor=${'A'.repeat(40_000)}`, headers: auth() }), 431);
      expectProblem(await raw('config', { method: 'CONNECT', path: '/v2/webhooks', headers: auth() }), 405);
      expectProblem(await raw('config', { method: 'GET', path: '/v2/webhooks/%E0%A4%A', headers: auth() }), 400);
      const head = await raw('config', { method: 'HEAD', path: `/v2/webhooks?page_cursor=${'A'.repeat(40_000)}`, headers: auth() });
      expect(head.status).toBe(431);
      expect(head.body).toBe('');
    });
  });

  it('the fixtures survived: the accounts still answer normally', async () => {
    await eventually(async () => (await new ApiClient(bases.config, fixtures.tokens[0]).get('/v2/webhooks')).status === 200);
    expect((await new ApiClient(bases.approval, fixtures.tokens[0]).get('/v2/approvals')).status).toBe(200);
  });
});

function isProblem(res: { status: number; contentType: string; body: string }, method: string): boolean {
  if (!res.contentType.startsWith('application/problem+json')) return false;
  if (method === 'HEAD') return true;
  try {
    const p = JSON.parse(res.body);
    return p.status === res.status && typeof p.title === 'string' && typeof p.detail === 'string' && typeof p.type === 'string';
  } catch {
    return false;
  }
}
