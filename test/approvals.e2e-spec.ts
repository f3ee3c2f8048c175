import { KV, NatsConnection } from 'nats';
import { ApiClient, eventually, TEST_WEBHOOK_KEY, TestPlatform, testWebhook } from '@app/testing';
import { useHarness } from './support/harness';

/** Four-eyes approvals end to end: both services over HTTP, real Postgres and NATS. */

// Per test: polls wait up to 20 s each on a loaded machine (the e2e project's testTimeout is not applied per project).
jest.setTimeout(120_000);

const POLICY = '/v2/approval-policies/webhooks';
const SECRET = TEST_WEBHOOK_KEY;

interface Member {
  cfg: ApiClient;
  apr: ApiClient;
}

interface Team {
  accountId: string;
  /** developer and approver: makes the changes */
  alice: Member;
  bob: Member;
  carol: Member;
  /** developer only */
  dave: Member;
  /** entity manager and approver */
  erin: Member;
  webhooks: Record<string, string>;
}

describe('approvals', () => {
  const h = useHarness({ config: true, approval: true, nats: true });
  let platform: TestPlatform;
  let cfgApi: ApiClient;
  let aprApi: ApiClient;
  let nc: NatsConnection;
  let kv: KV;
  let accounts = 0;

  beforeAll(async () => {
    ({ platform, api: cfgApi, approvalApi: aprApi, nc } = h);
    kv = await nc.jetstream().views.kv('webhooks');
  });

  /** A fresh account with its people; `webhooks` are created before the policy (if any) is switched on. */
  async function team(requiredApprovals?: number, webhooks: string[] = []): Promise<Team> {
    const acct = await platform.account(`acct-${++accounts}`);
    const member = async (user: string, roles: string[]): Promise<Member> => {
      const token = await acct.token(user, roles);
      return { cfg: cfgApi.as(token), apr: aprApi.as(token) };
    };
    const t: Team = {
      accountId: acct.accountId,
      alice: await member('alice', ['developer', 'approver']),
      bob: await member('bob', ['approver']),
      carol: await member('carol', ['approver']),
      dave: await member('dave', ['developer']),
      erin: await member('erin', ['entity_manager', 'approver']),
      webhooks: {},
    };
    for (const name of webhooks) {
      const res = await t.alice.cfg.post('/v2/webhooks', testWebhook(name));
      expect(res.status).toBe(201);
      t.webhooks[name] = res.body.id;
    }
    if (requiredApprovals) {
      const res = await t.erin.apr.put(POLICY, { enabled: true, required_approvals: requiredApprovals });
      expect(res.status).toBe(200);
    }
    return t;
  }

  async function webhookWhere(t: Team, id: string, check: (w: any) => boolean, what: string) {
    return eventually(
      async () => {
        const res = await t.dave.cfg.get(`/v2/webhooks/${id}`);
        return res.status === 200 && check(res.body) ? res.body : undefined;
      },
      { what, timeoutMs: 20_000 },
    );
  }

  async function goneFromApi(t: Team, id: string) {
    await eventually(async () => (await t.dave.cfg.get(`/v2/webhooks/${id}`)).status === 404, { what: 'webhook gone', timeoutMs: 20_000 });
  }

  async function kvWhere(id: string, check: (snapshot: any) => boolean, what: string) {
    return eventually(
      async () => {
        const e = await kv.get(id);
        const snapshot = e && e.operation === 'PUT' ? e.json<any>() : undefined;
        return snapshot && check(snapshot) ? snapshot : undefined;
      },
      { what, timeoutMs: 20_000 },
    );
  }

  async function kvDeleted(id: string) {
    await eventually(
      async () => {
        const e = await kv.get(id);
        return !e || e.operation === 'DEL' || e.operation === 'PURGE';
      },
      { what: 'KV key deleted', timeoutMs: 20_000 },
    );
  }

  const withoutHistory = ({ approval_history: _h, ...rest }: any) => rest;

  describe('policy', () => {
    it('starts off; anyone in the account reads it, only an entity manager sets it; 401 without a token', async () => {
      const t = await team();
      expect((await t.dave.apr.get(POLICY)).body).toEqual({ enabled: false, required_approvals: 1, pending_approval_id: null });
      for (const who of [t.dave, t.bob]) {
        const res = await who.apr.put(POLICY, { enabled: true, required_approvals: 2 });
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      }
      expect((await aprApi.get(POLICY)).status).toBe(401);
      expect((await aprApi.put(POLICY, { enabled: true, required_approvals: 2 })).status).toBe(401);
      expect((await aprApi.as('wht_unknown').get(POLICY)).status).toBe(401);

      const set = await t.erin.apr.put(POLICY, { enabled: true, required_approvals: 2 });
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ enabled: true, required_approvals: 2, pending_approval_id: null });
      expect((await t.dave.apr.get(POLICY)).body).toEqual({ enabled: true, required_approvals: 2, pending_approval_id: null });
    });

    const bad: [string, unknown, string][] = [
      ['required_approvals 0', { enabled: true, required_approvals: 0 }, 'required_approvals'],
      ['required_approvals 6', { enabled: true, required_approvals: 6 }, 'required_approvals'],
      ['required_approvals "2"', { enabled: true, required_approvals: '2' }, 'required_approvals'],
      ['required_approvals 1.5', { enabled: true, required_approvals: 1.5 }, 'required_approvals'],
      ['required_approvals null', { enabled: true, required_approvals: null }, 'required_approvals'],
      ['enabled "true"', { enabled: 'true', required_approvals: 2 }, 'enabled'],
      ['enabled missing', { required_approvals: 2 }, 'enabled'],
      ['unknown field', { enabled: true, required_approvals: 2, quorum: 3 }, 'quorum'],
    ];

    it.each(bad)('400 for %s, and the policy stays as it was', async (_label, body, field) => {
      const t = await team();
      const res = await t.erin.apr.put(POLICY, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.meta.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await t.erin.apr.get(POLICY)).body).toEqual({ enabled: false, required_approvals: 1, pending_approval_id: null });
    });

    it('400 for malformed JSON and a non-object body', async () => {
      const t = await team();
      for (const raw of ['{"enabled": ', '[true]', 'true']) {
        const res = await t.erin.apr.request('PUT', POLICY, undefined, { raw });
        expect(res.status).toBe(400);
      }
    });

    it('changing a policy that is on needs approval: rejected, then approved by two others', async () => {
      const t = await team(2);
      const stricter = await t.erin.apr.put(POLICY, { enabled: true, required_approvals: 3 });
      expect(stricter.status).toBe(202);
      expect(stricter.body).toEqual({ enabled: true, required_approvals: 2, pending_approval_id: expect.any(String) });
      expect((await t.erin.apr.put(POLICY, { enabled: false })).status).toBe(409);
      const rejected = await t.bob.apr.post(`/v2/approvals/${stricter.body.pending_approval_id}/reject`);
      expect(rejected.body).toMatchObject({ status: 'REJECTED', decided_by: 'bob' });
      expect((await t.dave.apr.get(POLICY)).body).toEqual({ enabled: true, required_approvals: 2, pending_approval_id: null });

      const off = await t.erin.apr.put(POLICY, { enabled: false });
      expect(off.status).toBe(202);
      const id = off.body.pending_approval_id;
      expect((await t.dave.apr.get(POLICY)).body).toEqual({ enabled: true, required_approvals: 2, pending_approval_id: id });
      const request = await t.dave.apr.get(`/v2/approvals/${id}`);
      expect(request.body).toMatchObject({
        id,
        action: 'POLICY_UPDATE',
        webhook_id: null,
        changes: { enabled: false, required_approvals: 2 },
        requested_by: 'erin',
        required_approvals: 2,
        approvals: [],
        status: 'PENDING',
        decided_at: null,
      });
      expect((await t.erin.apr.post(`/v2/approvals/${id}/approve`)).status).toBe(403);
      expect((await t.bob.apr.post(`/v2/approvals/${id}/approve`)).body.status).toBe('PENDING');
      // Still on: a webhook change waits for approval meanwhile.
      expect((await t.alice.cfg.post('/v2/webhooks', testWebhook('during'))).status).toBe(202);
      const approved = await t.carol.apr.post(`/v2/approvals/${id}/approve`);
      expect(approved.body).toMatchObject({ status: 'APPROVED', decided_by: 'carol', decided_at: expect.any(String) });
      expect((await t.dave.apr.get(POLICY)).body).toEqual({ enabled: false, required_approvals: 2, pending_approval_id: null });
      expect((await t.alice.cfg.post('/v2/webhooks', testWebhook('after'))).status).toBe(201);
    });
  });

  it('a request keeps the required approvals in force when it was made', async () => {
    const t = await team(2);
    const early = await t.alice.cfg.post('/v2/webhooks', testWebhook('early'));
    const relax = (await t.erin.apr.put(POLICY, { enabled: true, required_approvals: 1 })).body.pending_approval_id;
    await t.bob.apr.post(`/v2/approvals/${relax}/approve`);
    expect((await t.carol.apr.post(`/v2/approvals/${relax}/approve`)).body.status).toBe('APPROVED');
    expect((await t.dave.apr.get(POLICY)).body).toMatchObject({ enabled: true, required_approvals: 1 });

    const late = await t.alice.cfg.post('/v2/webhooks', testWebhook('late'));
    expect((await t.dave.apr.get(`/v2/approvals/${late.body.pending_approval_id}`)).body.required_approvals).toBe(1);
    expect((await t.bob.apr.post(`/v2/approvals/${late.body.pending_approval_id}/approve`)).body.status).toBe('APPROVED');
    const first = await t.bob.apr.post(`/v2/approvals/${early.body.pending_approval_id}/approve`);
    expect(first.body).toMatchObject({ required_approvals: 2, status: 'PENDING' });
    expect((await t.carol.apr.post(`/v2/approvals/${early.body.pending_approval_id}/approve`)).body.status).toBe('APPROVED');
    await webhookWhere(t, early.body.id, (w) => w.status === 'ACTIVE', 'early create applied');
    await webhookWhere(t, late.body.id, (w) => w.status === 'ACTIVE', 'late create applied');
  });

  describe('under a 2-approver policy', () => {
    it('create: pending, refused to the requester and to a developer, applied after two approvals, seen by the KV bucket', async () => {
      const t = await team(2);
      const created = await t.alice.cfg.post('/v2/webhooks', testWebhook('payments'));
      expect(created.status).toBe(202);
      expect(created.body).toMatchObject({
        name: 'payments',
        status: 'PENDING',
        pending_approval_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        api_key: { header: 'X-Api-Key', key: '****cdef' },
        signing_secret: expect.stringMatching(/^whsec_/),
      });
      expect(created.text).not.toContain(SECRET);
      const { id, pending_approval_id: approvalId } = created.body;

      const pending = await t.dave.cfg.get(`/v2/webhooks/${id}`);
      expect(pending.body).toMatchObject({ status: 'PENDING', pending_approval_id: approvalId });
      expect(pending.body.approval_history).toEqual([
        expect.objectContaining({ approval_id: approvalId, action: 'CREATE', status: 'PENDING', requested_by: 'alice', approvals: [], result: null }),
      ]);
      expect(pending.body.signing_secret).toBeUndefined();
      await kvWhere(id, (s) => s.status === 'PENDING', 'pending create in KV');

      const request = await t.dave.apr.get(`/v2/approvals/${approvalId}`);
      expect(request.status).toBe(200);
      expect(request.body).toEqual({
        id: approvalId,
        action: 'CREATE',
        webhook_id: id,
        changes: {
          name: 'payments',
          url: 'https://hooks.example.com/paxos',
          auth_type: 'API_KEY',
          api_key: { header: 'X-Api-Key', key: '****cdef' },
          event_types: ['identity.approved'],
          rate_limit: 10,
        },
        requested_by: 'alice',
        required_approvals: 2,
        approvals: [],
        status: 'PENDING',
        decided_by: null,
        created_at: expect.any(String),
        decided_at: null,
      });
      expect(request.text).not.toContain(SECRET);
      const stored = await platform.orm.em.getConnection().execute('select * from approval_requests where id = ?', [approvalId]);
      expect(JSON.stringify(stored)).not.toContain(SECRET);
      expect((await t.dave.apr.get('/v2/approvals?status=PENDING')).body.approvals.map((a: { id: string }) => a.id)).toEqual([approvalId]);

      const self = await t.alice.apr.post(`/v2/approvals/${approvalId}/approve`);
      expect(self.status).toBe(403);
      expect(self.body.detail).toMatch(/requester/);
      expect((await t.dave.apr.post(`/v2/approvals/${approvalId}/approve`)).status).toBe(403);
      expect((await t.dave.apr.post(`/v2/approvals/${approvalId}/reject`)).status).toBe(403);
      const patch = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 5 });
      expect(patch.status).toBe(409);
      expect(patch.body.type).toMatch(/\/approval-pending$/);
      expect((await t.alice.cfg.delete(`/v2/webhooks/${id}`)).status).toBe(409);

      const first = await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'PENDING', approvals: [{ approved_by: 'bob', approved_at: expect.any(String) }] });
      const again = await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`);
      expect(again.status).toBe(409);
      expect(again.body.type).toMatch(/\/already-approved$/);
      expect((await t.dave.cfg.get(`/v2/webhooks/${id}`)).body.status).toBe('PENDING');

      const second = await t.carol.apr.post(`/v2/approvals/${approvalId}/approve`);
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ status: 'APPROVED', decided_by: 'carol', decided_at: expect.any(String) });
      expect(second.body.approvals.map((a: { approved_by: string }) => a.approved_by)).toEqual(['bob', 'carol']);

      const active = await webhookWhere(t, id, (w) => w.status === 'ACTIVE', 'create applied');
      expect(active).toMatchObject({ name: 'payments', pending_approval_id: null, status_detail: null });
      expect(active.approval_history).toEqual([
        expect.objectContaining({
          approval_id: approvalId,
          action: 'CREATE',
          status: 'APPROVED',
          requested_by: 'alice',
          requested_at: expect.any(String),
          approvals: [expect.objectContaining({ approved_by: 'bob' }), expect.objectContaining({ approved_by: 'carol' })],
          decided_by: 'carol',
          decided_at: expect.any(String),
          result: 'APPLIED',
        }),
      ]);
      await kvWhere(id, (s) => s.status === 'ACTIVE', 'active webhook in KV');
      expect((await t.dave.apr.get('/v2/approvals?status=PENDING')).body.approvals).toEqual([]);
      expect((await t.bob.apr.post(`/v2/approvals/${approvalId}/reject`)).status).toBe(409);
    });

    it('update: the webhook keeps its configuration (and keeps delivering) until two approvals apply the change', async () => {
      const t = await team(2, ['orders']);
      const id = t.webhooks.orders;
      const res = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 42, api_key: { header: 'X-New', key: 'new-secret-9999' } });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'PENDING_UPDATE', rate_limit: 10, api_key: { header: 'X-Api-Key', key: '****cdef' }, pending_approval_id: expect.any(String) });
      const approvalId = res.body.pending_approval_id;
      await kvWhere(id, (s) => s.status === 'PENDING_UPDATE' && s.rate_limit === 10, 'pending update in KV');

      const request = await t.dave.apr.get(`/v2/approvals/${approvalId}`);
      expect(request.body).toMatchObject({ action: 'UPDATE', webhook_id: id, changes: { rate_limit: 42, api_key: { header: 'X-New', key: '****9999' } } });
      expect(request.text).not.toContain('new-secret');
      expect((await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 43 })).status).toBe(409);

      expect((await t.alice.apr.post(`/v2/approvals/${approvalId}/approve`)).status).toBe(403);
      expect((await t.dave.apr.post(`/v2/approvals/${approvalId}/approve`)).status).toBe(403);
      expect((await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('PENDING');
      expect((await t.dave.cfg.get(`/v2/webhooks/${id}`)).body).toMatchObject({ status: 'PENDING_UPDATE', rate_limit: 10 });
      expect((await t.carol.apr.post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('APPROVED');

      const applied = await webhookWhere(t, id, (w) => w.status === 'ACTIVE', 'update applied');
      expect(applied).toMatchObject({ rate_limit: 42, api_key: { header: 'X-New', key: '****9999' }, pending_approval_id: null });
      expect(applied.approval_history).toEqual([expect.objectContaining({ action: 'UPDATE', status: 'APPROVED', result: 'APPLIED' })]);
      const snapshot = await kvWhere(id, (s) => s.status === 'ACTIVE' && s.rate_limit === 42, 'applied update in KV');
      expect(snapshot.api_key.header).toBe('X-New');
      expect(JSON.stringify(snapshot)).not.toContain('new-secret');
    });

    it('delete: the webhook awaits deletion, then two approvals remove it from the API and the KV bucket', async () => {
      const t = await team(2, ['doomed', 'other']);
      const id = t.webhooks.doomed;
      const res = await t.alice.cfg.delete(`/v2/webhooks/${id}`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ id, status: 'PENDING_DELETION', pending_approval_id: expect.any(String) });
      const approvalId = res.body.pending_approval_id;
      expect((await t.dave.cfg.get(`/v2/webhooks/${id}`)).body.status).toBe('PENDING_DELETION');
      await kvWhere(id, (s) => s.status === 'PENDING_DELETION', 'pending deletion in KV');
      expect((await t.dave.apr.get(`/v2/approvals/${approvalId}`)).body).toMatchObject({ action: 'DELETE', webhook_id: id, changes: null });

      expect((await t.alice.apr.post(`/v2/approvals/${approvalId}/approve`)).status).toBe(403);
      await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`);
      await t.carol.apr.post(`/v2/approvals/${approvalId}/approve`);
      await goneFromApi(t, id);
      await kvDeleted(id);
      expect((await t.dave.cfg.get('/v2/webhooks')).body.webhooks.map((w: { name: string }) => w.name)).toEqual(['other']);
      // The name is free again (the new create awaits approval in its turn).
      expect((await t.alice.cfg.post('/v2/webhooks', testWebhook('doomed'))).status).toBe(202);
    });
  });

  describe('reject and cancel leave everything as before', () => {
    it('a rejected create leaves no webhook and frees its slot', async () => {
      const t = await team(1, ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9']);
      const tenth = await t.alice.cfg.post('/v2/webhooks', testWebhook('w10'));
      expect(tenth.status).toBe(202);
      const full = await t.alice.cfg.post('/v2/webhooks', testWebhook('w11'));
      expect(full.status).toBe(409);
      expect(full.body.type).toMatch(/\/webhook-limit-reached$/);

      const rejected = await t.bob.apr.post(`/v2/approvals/${tenth.body.pending_approval_id}/reject`);
      expect(rejected.body).toMatchObject({ status: 'REJECTED', decided_by: 'bob', decided_at: expect.any(String) });
      await goneFromApi(t, tenth.body.id);
      await kvDeleted(tenth.body.id);
      expect((await t.dave.cfg.get('/v2/webhooks')).body.webhooks).toHaveLength(9);
      expect((await t.alice.cfg.post('/v2/webhooks', testWebhook('w10'))).status).toBe(202);
    });

    it('a cancelled create leaves no webhook either', async () => {
      const t = await team(2);
      const created = await t.alice.cfg.post('/v2/webhooks', testWebhook('never'));
      expect((await t.alice.apr.post(`/v2/approvals/${created.body.pending_approval_id}/cancel`)).body.status).toBe('CANCELLED');
      await goneFromApi(t, created.body.id);
      expect((await t.dave.cfg.get('/v2/webhooks')).body.webhooks).toEqual([]);
    });

    it('a rejected update leaves the webhook exactly as it was', async () => {
      const t = await team(2, ['steady']);
      const id = t.webhooks.steady;
      const before = withoutHistory((await t.dave.cfg.get(`/v2/webhooks/${id}`)).body);
      const res = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { name: 'renamed', url: 'https://elsewhere.example.com/x', rate_limit: 99 });
      expect(res.status).toBe(202);
      await t.bob.apr.post(`/v2/approvals/${res.body.pending_approval_id}/approve`);
      expect((await t.carol.apr.post(`/v2/approvals/${res.body.pending_approval_id}/reject`)).body).toMatchObject({ status: 'REJECTED', decided_by: 'carol' });

      const after = await webhookWhere(t, id, (w) => w.pending_approval_id === null, 'update reverted');
      expect(withoutHistory(after)).toEqual(before);
      expect(after.approval_history).toEqual([
        expect.objectContaining({ action: 'UPDATE', status: 'REJECTED', decided_by: 'carol', approvals: [expect.objectContaining({ approved_by: 'bob' })], result: 'REVERTED' }),
      ]);
      await kvWhere(id, (s) => s.status === 'ACTIVE' && s.url === before.url && s.rate_limit === 10, 'reverted webhook in KV');
      // The name it asked for is not taken by anyone.
      expect((await t.alice.cfg.post('/v2/webhooks', testWebhook('renamed'))).status).toBe(202);
    });

    it('a cancelled delete leaves the webhook exactly as it was; only the requester cancels, only while pending', async () => {
      const t = await team(2, ['keep']);
      const id = t.webhooks.keep;
      const before = withoutHistory((await t.dave.cfg.get(`/v2/webhooks/${id}`)).body);
      const res = await t.alice.cfg.delete(`/v2/webhooks/${id}`);
      const approvalId = res.body.pending_approval_id;
      for (const other of [t.bob, t.dave, t.erin]) {
        const refused = await other.apr.post(`/v2/approvals/${approvalId}/cancel`);
        expect(refused.status).toBe(403);
      }
      const cancelled = await t.alice.apr.post(`/v2/approvals/${approvalId}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ status: 'CANCELLED', decided_by: 'alice', decided_at: expect.any(String) });
      const again = await t.alice.apr.post(`/v2/approvals/${approvalId}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body.type).toMatch(/\/approval-not-pending$/);
      expect((await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`)).status).toBe(409);

      const after = await webhookWhere(t, id, (w) => w.pending_approval_id === null, 'delete cancelled');
      expect(withoutHistory(after)).toEqual(before);
      expect(after.approval_history).toEqual([expect.objectContaining({ action: 'DELETE', status: 'CANCELLED', result: 'REVERTED' })]);
      await kvWhere(id, (s) => s.status === 'ACTIVE', 'kept webhook in KV');
    });
  });

  it('an approved change that now breaks a rule leaves the webhook in ERROR with the reason, and nothing else changes', async () => {
    const t = await team(1, ['first']);
    const id = t.webhooks.first;
    const rename = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { name: 'taken', rate_limit: 77 });
    expect(rename.status).toBe(202);
    // Meanwhile a new webhook claims the name (a pending create holds it).
    const claim = await t.alice.cfg.post('/v2/webhooks', testWebhook('taken'));
    expect(claim.status).toBe(202);
    await t.bob.apr.post(`/v2/approvals/${rename.body.pending_approval_id}/approve`);

    const failed = await webhookWhere(t, id, (w) => w.status === 'ERROR', 'webhook in ERROR');
    expect(failed).toMatchObject({ name: 'first', rate_limit: 10, pending_approval_id: null, status_detail: expect.stringContaining('"taken" already exists') });
    expect(failed.approval_history).toEqual([expect.objectContaining({ status: 'APPROVED', result: 'FAILED', result_detail: failed.status_detail })]);
    await kvWhere(id, (s) => s.status === 'ERROR' && s.rate_limit === 10, 'ERROR in KV');

    await t.bob.apr.post(`/v2/approvals/${claim.body.pending_approval_id}/approve`);
    await webhookWhere(t, claim.body.id, (w) => w.status === 'ACTIVE' && w.name === 'taken', 'claim applied');

    // A cancelled retry leaves it in ERROR as it was; an approved one clears the error.
    const before = withoutHistory((await t.dave.cfg.get(`/v2/webhooks/${id}`)).body);
    const retry = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 5 });
    expect(retry.body.status).toBe('PENDING_UPDATE');
    await t.alice.apr.post(`/v2/approvals/${retry.body.pending_approval_id}/cancel`);
    expect(withoutHistory(await webhookWhere(t, id, (w) => w.pending_approval_id === null, 'retry cancelled'))).toEqual(before);
    const fix = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 5 });
    await t.carol.apr.post(`/v2/approvals/${fix.body.pending_approval_id}/approve`);
    const fixed = await webhookWhere(t, id, (w) => w.status === 'ACTIVE', 'error cleared');
    expect(fixed).toMatchObject({ name: 'first', rate_limit: 5, status_detail: null });
    expect(fixed.approval_history.map((h: { result: string }) => h.result)).toEqual(['FAILED', 'REVERTED', 'APPLIED']);
  });

  describe('access and listing', () => {
    it('401 without a token, 404 for another account or an unknown id, 400 for a bad id or filter', async () => {
      const t = await team(1);
      const created = await t.alice.cfg.post('/v2/webhooks', testWebhook('mine'));
      const approvalId = created.body.pending_approval_id;
      const stranger = await team();
      expect((await aprApi.get('/v2/approvals')).status).toBe(401);
      expect((await aprApi.post(`/v2/approvals/${approvalId}/approve`)).status).toBe(401);
      for (const [method, path] of [
        ['GET', ''],
        ['POST', '/approve'],
        ['POST', '/reject'],
        ['POST', '/cancel'],
      ]) {
        const res = await stranger.erin.apr.request(method, `/v2/approvals/${approvalId}${path}`);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect((await t.bob.apr.request(method, `/v2/approvals/00000000-0000-4000-8000-000000000000${path}`)).status).toBe(404);
        expect((await t.bob.apr.request(method, `/v2/approvals/not-a-uuid${path}`)).status).toBe(400);
      }
      expect((await stranger.dave.apr.get('/v2/approvals')).body).toEqual({ approvals: [], next_page_cursor: '' });
      expect((await t.dave.apr.get(`/v2/approvals/${approvalId}`)).body.status).toBe('PENDING');
      expect((await t.dave.apr.get('/v2/approvals?status=DONE')).status).toBe(400);
      expect((await t.dave.apr.get('/v2/approvals?limit=0')).status).toBe(400);
      expect((await t.dave.apr.get('/v2/approvals?page_cursor=garbage')).status).toBe(400);
    });

    it('pages through requests with a cursor and filters by status', async () => {
      const t = await team(1);
      const ids: string[] = [];
      for (const name of ['a', 'b', 'c']) ids.push((await t.alice.cfg.post('/v2/webhooks', testWebhook(name))).body.pending_approval_id);
      await t.bob.apr.post(`/v2/approvals/${ids[1]}/approve`);
      const seen: string[] = [];
      let cursor = '';
      let pages = 0;
      do {
        const res = await t.dave.apr.get(`/v2/approvals?limit=2${cursor ? `&page_cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.approvals.map((a: { id: string }) => a.id));
        cursor = res.body.next_page_cursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual(ids);
      expect(pages).toBe(2);
      expect((await t.dave.apr.get('/v2/approvals?status=PENDING')).body.approvals.map((a: { id: string }) => a.id)).toEqual([ids[0], ids[2]]);
      expect((await t.dave.apr.get('/v2/approvals?status=APPROVED')).body.approvals.map((a: { id: string }) => a.id)).toEqual([ids[1]]);
    });

    it('the approval service answers health, metrics and its OpenAPI document without a token', async () => {
      expect((await aprApi.get('/health')).status).toBe(200);
      expect((await aprApi.get('/metrics')).text).toContain('approval_decisions_relayed_total');
      const doc = await aprApi.get('/docs/openapi.json');
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v2/approval-policies/webhooks', '/v2/approvals', '/v2/approvals/{id}', '/v2/approvals/{id}/approve']));
    });
  });
});
