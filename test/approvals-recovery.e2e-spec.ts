import { INestApplication } from '@nestjs/common';
import { createApprovalServiceApp } from '../apps/approval-service/src/main';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { APPLY_DECISIONS_CONSUMER, APPROVAL_DECIDED_SUBJECT, encodeDecision, STREAM_APPROVALS } from '@app/approvals-contract';
import { ApiClient, eventually, listen, testWebhook } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * Approved changes are applied exactly once, whatever stops in between: the config service, the
 * approval service, NATS; and however approvals race.
 */

// Per test: polls wait up to 20 s each on a loaded machine (the e2e project's testTimeout is not applied per project).
jest.setTimeout(120_000);

const POLICY = '/v2/approval-policies/webhooks';

describe('approvals: failures and races', () => {
  const h = useHarness({ nats: { maxReconnectAttempts: -1, reconnectTimeWait: 250 } });
  // The services are started here, since tests stop and restart them.
  let configApp: INestApplication | undefined;
  let approvalApp: INestApplication | undefined;
  let cfgApi: ApiClient;
  let aprApi: ApiClient;
  let accounts = 0;

  /** A user's clients follow the services across restarts (a restarted app listens on a new port). */
  class Member {
    constructor(private readonly token: string) {}
    get cfg() {
      return cfgApi.as(this.token);
    }
    get apr() {
      return aprApi.as(this.token);
    }
  }

  async function startConfigService() {
    configApp = await createConfigServiceApp();
    cfgApi = new ApiClient(await listen(configApp));
  }

  async function startApprovalService() {
    approvalApp = await createApprovalServiceApp();
    aprApi = new ApiClient(await listen(approvalApp));
  }

  beforeAll(async () => {
    h.onClose(async () => {
      await configApp?.close();
      await approvalApp?.close();
    });
    await startConfigService();
    await startApprovalService();
  });

  async function team(requiredApprovals: number, webhooks: string[] = []) {
    const acct = await h.platform.account(`acct-${++accounts}`);
    const t = {
      alice: new Member(await acct.token('alice', ['developer'])),
      bob: new Member(await acct.token('bob', ['approver'])),
      carol: new Member(await acct.token('carol', ['approver'])),
      ids: {} as Record<string, string>,
    };
    for (const name of webhooks) t.ids[name] = (await t.alice.cfg.post('/v2/webhooks', testWebhook(name))).body.id;
    const erin = new Member(await acct.token('erin', ['entity_manager']));
    expect((await erin.apr.put(POLICY, { enabled: true, required_approvals: requiredApprovals })).status).toBe(200);
    return t;
  }

  async function sql<T = any>(query: string, params: unknown[] = []): Promise<T[]> {
    return h.platform.orm.em.getConnection().execute(query, params);
  }

  const webhookRow = async (id: string) => (await sql('select status, rate_limit, version, pending_approval_id from webhooks where id = ?', [id]))[0];
  const applications = async (requestId: string) => sql('select outcome from webhook_approval_applications where request_id = ?', [requestId]);

  /** Waits until the config service's durable consumer has acknowledged everything up to `seq`. */
  async function consumerCaughtUp(seq: number) {
    const jsm = await h.nc.jetstreamManager();
    await eventually(
      async () => {
        const info = await jsm.consumers.info(STREAM_APPROVALS, APPLY_DECISIONS_CONSUMER);
        return info.ack_floor.stream_seq >= seq && info.num_ack_pending === 0;
      },
      { what: `consumer acked stream sequence ${seq}`, timeoutMs: 20_000 },
    );
  }

  it('a change approved while the config service is down is applied once it is back, exactly once', async () => {
    const t = await team(2, ['durable']);
    const id = t.ids.durable;
    const pending = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 33 });
    expect(pending.status).toBe(202);
    const approvalId = pending.body.pending_approval_id;
    const versionWhilePending = (await webhookRow(id)).version;

    await configApp!.close();
    configApp = undefined;
    expect((await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('PENDING');
    expect((await t.carol.apr.post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('APPROVED');
    // The decision is on its way (published to the stream), but nobody applies it yet.
    await eventually(async () => (await sql('select notified_at from approval_requests where id = ?', [approvalId]))[0].notified_at, { what: 'decision relayed' });
    expect(await webhookRow(id)).toMatchObject({ status: 'PENDING_UPDATE', rate_limit: 10, pending_approval_id: approvalId });
    expect(await applications(approvalId)).toEqual([]);

    await startConfigService();
    const applied = await eventually(
      async () => {
        const res = await t.alice.cfg.get(`/v2/webhooks/${id}`);
        return res.body.status === 'ACTIVE' ? res.body : undefined;
      },
      { what: 'change applied after restart', timeoutMs: 20_000 },
    );
    expect(applied).toMatchObject({ rate_limit: 33, pending_approval_id: null });
    expect(applied.approval_history).toEqual([expect.objectContaining({ approval_id: approvalId, status: 'APPROVED', result: 'APPLIED' })]);
    expect(await applications(approvalId)).toEqual([{ outcome: 'APPLIED' }]);
    expect((await webhookRow(id)).version).toBe(versionWhilePending + 1);

    // A re-publish with the same id is dropped by JetStream; a redelivery under another id changes nothing.
    const js = h.nc.jetstream();
    const decision = encodeDecision({
      request_id: approvalId,
      account_id: (await sql('select account_id from webhooks where id = ?', [id]))[0].account_id,
      webhook_id: id,
      action: 'UPDATE',
      status: 'APPROVED',
      decided_at: new Date().toISOString(),
    });
    expect((await js.publish(APPROVAL_DECIDED_SUBJECT, decision, { msgID: approvalId })).duplicate).toBe(true);
    const again = await js.publish(APPROVAL_DECIDED_SUBJECT, decision, { msgID: `${approvalId}:redelivered` });
    await consumerCaughtUp(again.seq);
    expect(await applications(approvalId)).toEqual([{ outcome: 'APPLIED' }]);
    expect(await webhookRow(id)).toMatchObject({ status: 'ACTIVE', rate_limit: 33, version: versionWhilePending + 1 });
    const kv = await js.views.kv('webhooks');
    expect((await kv.get(id))?.json<any>()).toMatchObject({ rate_limit: 33, status: 'ACTIVE', version: versionWhilePending + 1 });
  });

  it('concurrent approvals by two approvers of a 1-approver request: one counts, the change is applied once', async () => {
    const names = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const t = await team(1, names);
    await Promise.all(
      names.map(async (name, i) => {
        const id = t.ids[name];
        const pending = await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 20 + i });
        const approvalId = pending.body.pending_approval_id;
        const version = (await webhookRow(id)).version;
        const results = await Promise.all([t.bob.apr.post(`/v2/approvals/${approvalId}/approve`), t.carol.apr.post(`/v2/approvals/${approvalId}/approve`)]);
        expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
        expect(results.find((r) => r.status === 409)!.body.type).toMatch(/\/approval-not-pending$/);
        const request = (await t.alice.apr.get(`/v2/approvals/${approvalId}`)).body;
        expect(request.status).toBe('APPROVED');
        expect(request.approvals).toHaveLength(1);
        await eventually(async () => (await webhookRow(id)).status === 'ACTIVE', { what: `${name} applied`, timeoutMs: 20_000 });
        expect(await webhookRow(id)).toMatchObject({ rate_limit: 20 + i, version: version + 1, pending_approval_id: null });
        expect(await applications(approvalId)).toEqual([{ outcome: 'APPLIED' }]);
      }),
    );
  });

  it('an approval racing the cancellation: exactly one wins and the webhook follows it', async () => {
    const names = ['c1', 'c2', 'c3', 'c4'];
    const t = await team(1, names);
    await Promise.all(
      names.map(async (name) => {
        const id = t.ids[name];
        const approvalId = (await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 55 })).body.pending_approval_id;
        const [approve, cancel] = await Promise.all([t.bob.apr.post(`/v2/approvals/${approvalId}/approve`), t.alice.apr.post(`/v2/approvals/${approvalId}/cancel`)]);
        expect([approve.status, cancel.status].sort()).toEqual([200, 409]);
        const approved = approve.status === 200;
        await eventually(async () => (await webhookRow(id)).pending_approval_id === null, { what: `${name} settled`, timeoutMs: 20_000 });
        expect(await webhookRow(id)).toMatchObject({ status: 'ACTIVE', rate_limit: approved ? 55 : 10 });
        expect(await applications(approvalId)).toEqual([{ outcome: approved ? 'APPLIED' : 'REVERTED' }]);
      }),
    );
  });

  it('the config service keeps taking changes while the approval service is down; they are decided once it is back', async () => {
    const t = await team(1, ['solo']);
    await approvalApp!.close();
    approvalApp = undefined;
    const pending = await t.alice.cfg.delete(`/v2/webhooks/${t.ids.solo}`);
    expect(pending.status).toBe(202);
    await startApprovalService();
    expect((await t.bob.apr.post(`/v2/approvals/${pending.body.pending_approval_id}/approve`)).body.status).toBe('APPROVED');
    await eventually(async () => (await t.alice.cfg.get(`/v2/webhooks/${t.ids.solo}`)).status === 404, { what: 'deletion applied', timeoutMs: 20_000 });
  });

  it('a decision taken while NATS is down is applied once NATS is back', async () => {
    const t = await team(1, ['through-outage']);
    const id = t.ids['through-outage'];
    const approvalId = (await t.alice.cfg.patch(`/v2/webhooks/${id}`, { rate_limit: 66 })).body.pending_approval_id;
    await h.platform.nats.stop();
    try {
      expect((await t.bob.apr.post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('APPROVED');
      expect(await webhookRow(id)).toMatchObject({ status: 'PENDING_UPDATE', rate_limit: 10 });
    } finally {
      await h.platform.nats.restart();
    }
    await eventually(async () => (await webhookRow(id)).status === 'ACTIVE', { what: 'applied after NATS restart', timeoutMs: 45_000 });
    expect(await webhookRow(id)).toMatchObject({ rate_limit: 66, pending_approval_id: null });
    expect(await applications(approvalId)).toEqual([{ outcome: 'APPLIED' }]);
  });
});
