import { INestApplication } from '@nestjs/common';
import { createConfigServiceApp } from '../apps/config-service/src/main';
import { APPLY_DECISIONS_CONSUMER, STREAM_APPROVALS } from '@app/approvals-contract';
import { ApiClient, eventually, listen, TEST_SECRETS_KEY, testWebhook } from '@app/testing';
import { useHarness } from './support/harness';

/**
 * An approved change that keeps failing for a reason no rule describes (the proposal cannot be
 * opened after a SECRETS_KEY change, a database constraint) ends in ERROR with a status_detail after
 * APPROVAL_APPLY_MAX_ATTEMPTS deliveries, instead of being retried forever.
 */

jest.setTimeout(180_000);

const POLICY = '/v2/approval-policies/webhooks';
const MAX_ATTEMPTS = 3;

describe('approvals that cannot apply', () => {
  const h = useHarness({ env: { APPROVAL_APPLY_MAX_ATTEMPTS: String(MAX_ATTEMPTS) }, approval: true, nats: true });
  // The config service is started here, since a test restarts it under another key.
  let configApp: INestApplication | undefined;
  let cfgApi: ApiClient;
  let accounts = 0;

  async function startConfigService() {
    configApp = await createConfigServiceApp();
    cfgApi = new ApiClient(await listen(configApp));
  }

  beforeAll(async () => {
    h.onClose(async () => {
      await configApp?.close();
      process.env.SECRETS_KEY = TEST_SECRETS_KEY;
    });
    await startConfigService();
  });

  /** An account whose webhook changes need one approval, with one webhook. */
  async function team(webhook: string) {
    const acct = await h.platform.account(`acct-${++accounts}`);
    const alice = await acct.token('alice', ['developer']);
    const bob = await acct.token('bob', ['approver']);
    const id = (await cfgApi.as(alice).post('/v2/webhooks', testWebhook(webhook))).body.id as string;
    const erin = await acct.token('erin', ['entity_manager']);
    expect((await h.approvalApi.as(erin).put(POLICY, { enabled: true, required_approvals: 1 })).status).toBe(200);
    return { alice, bob, id };
  }

  const webhookRow = async (id: string) => (await h.platform.sql('select status, error_detail, rate_limit, pending_approval_id from webhooks where id = $1', [id]))[0];
  const applications = (requestId: string) => h.platform.sql('select outcome, detail from webhook_approval_applications where request_id = $1', [requestId]);

  async function consumerSettled() {
    const jsm = await h.nc.jetstreamManager();
    await eventually(
      async () => {
        const info = await jsm.consumers.info(STREAM_APPROVALS, APPLY_DECISIONS_CONSUMER);
        return info.num_ack_pending === 0 && info.num_pending === 0;
      },
      { what: 'decision consumer acked everything', timeoutMs: 20_000 },
    );
  }

  it('a change the database refuses ends in ERROR after the configured attempts, with the constraint named', async () => {
    const { alice, bob, id } = await team('refused');
    // A rule only the database knows: the change passes every check of the API and fails on commit.
    await h.platform.sql('alter table webhooks add constraint test_rate_not_77 check (rate_limit <> 77)');
    try {
      const pending = await cfgApi.as(alice).patch(`/v2/webhooks/${id}`, { rate_limit: 77 });
      expect(pending.status).toBe(202);
      const approvalId = pending.body.pending_approval_id;
      expect((await h.approvalApi.as(bob).post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('APPROVED');

      const failed = await eventually(
        async () => {
          const res = await cfgApi.as(alice).get(`/v2/webhooks/${id}`);
          return res.body.status === 'ERROR' ? res.body : undefined;
        },
        { what: 'webhook in ERROR', timeoutMs: 60_000 },
      );
      expect(failed).toMatchObject({ rate_limit: 10, pending_approval_id: null });
      expect(failed.status_detail).toBe(
        `The approved change could not be applied after ${MAX_ATTEMPTS} attempts: the database refused it (SQLSTATE 23514, constraint test_rate_not_77)`,
      );
      expect(failed.approval_history).toEqual([expect.objectContaining({ approval_id: approvalId, status: 'APPROVED', result: 'FAILED', result_detail: failed.status_detail })]);
      expect(await applications(approvalId)).toEqual([{ outcome: 'FAILED', detail: failed.status_detail }]);
      await consumerSettled();
    } finally {
      await h.platform.sql('alter table webhooks drop constraint test_rate_not_77');
    }
  });

  it('a proposal sealed under another SECRETS_KEY ends in ERROR once the attempts are used up, naming no secret', async () => {
    const { alice, bob, id } = await team('rekeyed');
    const pending = await cfgApi.as(alice).patch(`/v2/webhooks/${id}`, { api_key: { header: 'X-Api-Key', key: 'proposed-secret-98765' } });
    expect(pending.status).toBe(202);
    const approvalId = pending.body.pending_approval_id;

    // The config service comes back with another key: the sealed proposal can no longer be opened.
    await configApp!.close();
    configApp = undefined;
    process.env.SECRETS_KEY = Buffer.alloc(32, 99).toString('base64');
    await startConfigService();
    expect((await h.approvalApi.as(bob).post(`/v2/approvals/${approvalId}/approve`)).body.status).toBe('APPROVED');

    const row = await eventually(
      async () => {
        const r = await webhookRow(id);
        return r.status === 'ERROR' ? r : undefined;
      },
      { what: 'webhook in ERROR', timeoutMs: 60_000 },
    );
    const detail = `The approved change could not be applied after ${MAX_ATTEMPTS} attempts: the sealed proposal could not be read (wrong SECRETS_KEY or damaged data)`;
    expect(row).toMatchObject({ error_detail: detail, pending_approval_id: null, rate_limit: 10 });
    expect(await applications(approvalId)).toEqual([{ outcome: 'FAILED', detail }]);
    expect(JSON.stringify(row)).not.toContain('proposed-secret');
    await consumerSettled();
  });
});
