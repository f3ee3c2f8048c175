import { randomUUID } from 'node:crypto';
import { partitionOf } from '@app/hashing';
import { eventually } from '@app/testing';
import { LIST_FROM } from '../apps/delivery-node/src/delivery/delivery-reconciler';
import { useHarness } from './support/harness';
import { counter } from './support/metrics';

jest.setTimeout(120_000);

/**
 * A delivery row whose task never reached NATS is found by the reconciler of its partition's owner
 * and delivered. It reads the partition consumers' state one by one for a few partitions and in one
 * listing for many: both ways are exercised.
 */
describe.each([4, LIST_FROM * 2])('the reconciler of a node holding %i partitions', (partitions) => {
  const h = useHarness({ env: { DELIVERY_PARTITIONS: String(partitions), DELIVERY_RECONCILE_AFTER_MS: '2000' }, consumer: true, config: true, node: 'listen', nats: true });

  it('re-drives rows whose task was lost, and they are delivered', async () => {
    const { accountId, dev } = await h.tenant('acme');
    const [hook] = await h.webhooksAt(dev, ['/lost'], { eventTypes: ['identity.*'] });
    const metrics = async () => (await h.nodeApi.get('/metrics')).text;
    await eventually(async () => counter(await metrics(), 'webhook_owned_partitions') === partitions, { timeoutMs: 60_000, what: 'the node consuming every partition' });
    // As if a crash came between the commit and the publish: rows exist, no task does.
    const ids = [randomUUID(), randomUUID()];
    for (const id of ids) {
      await h.platform.sql(`insert into events (id, account_id, type, object_type, object, created_at) values ($1, $2, 'identity.approved', 'x', '{}', now())`, [id, accountId]);
      await h.platform.sql('insert into deliveries (event_id, webhook_id, account_id, partition) values ($1, $2, $3, $4)', [id, hook, accountId, partitionOf(hook, partitions)]);
    }
    await eventually(() => ids.every((id) => h.received('/lost').has(id)), { timeoutMs: 60_000, what: 'both delivered' });
    expect(counter(await metrics(), 'webhook_deliveries_reconciled_total')).toBe(2);
  });
});
