import type { NatsConnection } from 'nats';
import { assertPartitionCount, MAX_PARTITIONS_PARTITION_ROUTING } from '@app/hashing';
import { CLUSTER_TIMING, openNodesKv, openPartitionOwnersKv } from './cluster-kv';
import { changingTo, openClusterKv, parsePartitions, PARTITIONS_KEY, storedTaskRouting, TASK_ROUTING_KEY, TaskRouting } from './cluster-settings';
import { STREAM_DELIVERIES } from './names';
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
  // Nothing recorded: no node has run since the routing was recorded, so any that ran routed by partition.
  const routingNow: TaskRouting = storedTaskRouting(storedRouting) ?? 'partition';
  const routingAfter = routing ?? routingNow;
  if (routingAfter === 'partition' && partitions > MAX_PARTITIONS_PARTITION_ROUTING)
    throw new RepartitionRefusedError(`partition routing allows at most ${MAX_PARTITIONS_PARTITION_ROUTING} partitions (a consumer each); add --routing node`);
  if (from === partitions && routingAfter === routingNow) return { from, to: partitions, routing: routingNow, moved_rows: 0, purged_tasks: 0 };
  const marker = changingTo(partitions);
  const revision = stored?.operation === 'PUT' ? await clusterKv.update(PARTITIONS_KEY, marker, stored.revision) : await clusterKv.create(PARTITIONS_KEY, marker);
  // Recorded now, before any consumer goes: a node started meanwhile waits for the count, and must
  // not judge the routing from consumers this step is deleting.
  await clusterKv.put(TASK_ROUTING_KEY, routingAfter);

  const owners: string[] = [];
  for await (const key of await ownersKv.keys()) owners.push(key);
  await Promise.all(owners.map((key) => ownersKv.delete(key)));
  let purged = 0;
  try {
    // Every consumer of the stream: partitions', mailboxes' and the mailbox janitor's (whose filter over
    // all partition subjects would keep partition consumers from being made).
    const names: string[] = [];
    for await (const c of jsm.consumers.list(STREAM_DELIVERIES)) names.push(c.name);
    for (const name of names) await jsm.consumers.delete(STREAM_DELIVERIES, name);
    purged = (await jsm.streams.purge(STREAM_DELIVERIES)).purged;
  } catch (err) {
    if (!streamNotFound(err)) throw err;
  }

  const moved = await moveRows(partitions);
  await clusterKv.update(PARTITIONS_KEY, String(partitions), revision);
  return { from, to: partitions, routing: routingAfter, moved_rows: moved, purged_tasks: purged };
}
