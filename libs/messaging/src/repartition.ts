import type { NatsConnection } from 'nats';
import { assertPartitionCount } from '@app/hashing';
import { CLUSTER_TIMING, openNodesKv, openPartitionOwnersKv } from './cluster-kv';
import { changingTo, openClusterKv, parsePartitions, PARTITIONS_KEY, TASK_ROUTING_KEY, TaskRouting } from './cluster-settings';
import { DELIVERY_CONSUMER_PREFIX, MAILBOX_CONSUMER_PREFIX, STREAM_DELIVERIES } from './names';
import { streamNotFound } from './nats-errors';

export class RepartitionRefusedError extends Error {}

export interface RepartitionResult {
  from: number | 'changing' | null;
  to: number;
  /** The task routing after the change (see DELIVERY_TASK_ROUTING). */
  routing: TaskRouting;
  moved_rows: number;
  purged_tasks: number;
}

/**
 * Changes the partition count (and, when asked, the task routing) of a cluster whose delivery nodes are all stopped, in one fenced step:
 * 1. refuse while any node heartbeats (nobody may be sending);
 * 2. mark the count as changing (CAS), so a node started meanwhile waits instead of joining;
 * 3. drop the partitions' owner keys, the partition consumers and the queued tasks (only copies: every delivery
 *    has its row in Postgres);
 * 4. `moveRows(P)`: every unfinished delivery row to its new partition, due now;
 * 5. store the new count (and the new task routing, when one is given). Nodes then start with them
 *    and their retry scanners re-drive the rows.
 * A change interrupted after step 2 is finished by running the command again.
 */
export async function repartitionCluster(
  nc: NatsConnection,
  partitions: number,
  moveRows: (partitions: number) => Promise<number>,
  replicas = 1,
  routing?: TaskRouting,
): Promise<RepartitionResult> {
  assertPartitionCount(partitions);
  const js = nc.jetstream();
  const [clusterKv, nodesKv, ownersKv, jsm] = await Promise.all([
    openClusterKv(js, replicas),
    openNodesKv(js, replicas),
    openPartitionOwnersKv(js, replicas),
    nc.jetstreamManager(),
  ]);

  // Any heartbeat still in the bucket counts, however old: a busy node beats late but still sends.
  // (Keys are listed first: a lister read slowly while heartbeats keep arriving can end early.)
  const keys: string[] = [];
  for await (const key of await nodesKv.keys()) keys.push(key);
  const live = (await Promise.all(keys.map((k) => nodesKv.get(k)))).flatMap((e) => (e?.operation === 'PUT' ? [e.key] : []));
  if (live.length) {
    throw new RepartitionRefusedError(
      `delivery nodes are running (${live.sort().join(', ')}); stop every delivery node first (a crashed node's heartbeat expires ${CLUSTER_TIMING.memberTtlMs / 1000} s after its last)`,
    );
  }

  const stored = await clusterKv.get(PARTITIONS_KEY);
  const from = stored?.operation === 'PUT' ? parsePartitions(stored.string()) : null;
  const storedRouting = await clusterKv.get(TASK_ROUTING_KEY);
  const routingNow: TaskRouting = storedRouting?.operation === 'PUT' && storedRouting.string() === 'node' ? 'node' : 'partition';
  if (from === partitions && (routing ?? routingNow) === routingNow) return { from, to: partitions, routing: routingNow, moved_rows: 0, purged_tasks: 0 };
  const marker = changingTo(partitions);
  const revision = stored?.operation === 'PUT' ? await clusterKv.update(PARTITIONS_KEY, marker, stored.revision) : await clusterKv.create(PARTITIONS_KEY, marker);

  const owners: string[] = [];
  for await (const key of await ownersKv.keys()) owners.push(key);
  await Promise.all(owners.map((key) => ownersKv.delete(key)));
  let purged = 0;
  try {
    for await (const c of jsm.consumers.list(STREAM_DELIVERIES))
      if (c.name.startsWith(DELIVERY_CONSUMER_PREFIX) || c.name.startsWith(MAILBOX_CONSUMER_PREFIX)) await jsm.consumers.delete(STREAM_DELIVERIES, c.name);
    purged = (await jsm.streams.purge(STREAM_DELIVERIES)).purged;
  } catch (err) {
    if (!streamNotFound(err)) throw err;
  }

  const moved = await moveRows(partitions);
  if (routing) await clusterKv.put(TASK_ROUTING_KEY, routing);
  await clusterKv.update(PARTITIONS_KEY, String(partitions), revision);
  return { from, to: partitions, routing: routing ?? routingNow, moved_rows: moved, purged_tasks: purged };
}
