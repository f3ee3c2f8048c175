import { JetStreamClient, KV } from 'nats';
import { KV_CLUSTER } from './names';

export class PartitionMismatchError extends Error {}

const PARTITIONS_KEY = 'partitions';

export function openClusterKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_CLUSTER, { history: 1, replicas });
}

/**
 * The partition count is fixed per cluster and stored in NATS: the first node records its setting,
 * every later process must agree (a different P would send a webhook's tasks to two partitions).
 */
export async function agreePartitions(js: JetStreamClient, wanted: number | undefined, replicas = 1): Promise<number> {
  const kv = await openClusterKv(js, replicas);
  const existing = await kv.get(PARTITIONS_KEY);
  if (existing && existing.operation === 'PUT') {
    const stored = Number(existing.string());
    if (wanted !== undefined && stored !== wanted) {
      throw new PartitionMismatchError(`this cluster has ${stored} partitions but DELIVERY_PARTITIONS is ${wanted}; refusing to start`);
    }
    return stored;
  }
  const p = wanted ?? 64;
  try {
    await kv.create(PARTITIONS_KEY, String(p));
    return p;
  } catch {
    return agreePartitions(js, wanted, replicas); // created concurrently: check what won
  }
}
