import { JetStreamClient, JetStreamManager, KV } from 'nats';
import { assertPartitionCount, DEFAULT_PARTITIONS, DEFAULT_PARTITIONS_NODE_ROUTING, MAX_PARTITIONS_PARTITION_ROUTING } from '@app/hashing';
import { DELIVERY_CONSUMER_PREFIX, KV_CLUSTER, STREAM_DELIVERIES } from './names';
import { streamNotFound } from './nats-errors';

export class PartitionMismatchError extends Error {}
/** The count is being changed (`npm run admin -- cluster:repartition`): wait, then start with the new one. */
export class PartitionChangeInProgressError extends Error {}

export const PARTITIONS_KEY = 'partitions';
/** Value of the partitions key while a change to P is under way. */
export const changingTo = (partitions: number) => `changing:${partitions}`;

export function openClusterKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_CLUSTER, { history: 1, replicas });
}

/** The stored count, `changing` while a change is under way, or undefined for a new cluster. */
export function parsePartitions(value: string): number | 'changing' {
  if (value.startsWith('changing:')) return 'changing';
  const p = Number(value);
  assertPartitionCount(p);
  return p;
}

/**
 * The partition count is fixed per cluster and stored in NATS: the first node records its setting
 * (`fallback` when none is given: DEFAULT_PARTITIONS, or more with node routing), every later process must agree (a different P would send
 * a webhook's tasks to two partitions). Only `cluster:repartition` changes it, with every node stopped.
 */
export async function agreePartitions(js: JetStreamClient, wanted: number | undefined, replicas = 1, fallback = DEFAULT_PARTITIONS): Promise<number> {
  const kv = await openClusterKv(js, replicas);
  const existing = await kv.get(PARTITIONS_KEY);
  if (existing && existing.operation === 'PUT') {
    const stored = parsePartitions(existing.string());
    if (stored === 'changing') throw new PartitionChangeInProgressError(`the partition count is being changed (${existing.string()}); waiting`);
    if (wanted !== undefined && stored !== wanted) {
      throw new PartitionMismatchError(
        `this cluster has ${stored} partitions but DELIVERY_PARTITIONS is ${wanted}; refusing to start (npm run admin -- cluster:repartition changes it)`,
      );
    }
    return stored;
  }
  const p = wanted ?? fallback;
  try {
    await kv.create(PARTITIONS_KEY, String(p));
    return p;
  } catch {
    return agreePartitions(js, wanted, replicas, fallback); // created concurrently: check what won
  }
}

export type TaskRouting = 'partition' | 'node';
export const TASK_ROUTING_KEY = 'task-routing';
/** What a new cluster's first node records when it is not told (DELIVERY_TASK_ROUTING unset). */
export const DEFAULT_TASK_ROUTING: TaskRouting = 'node';

/** A new cluster's partition count for its routing (when DELIVERY_PARTITIONS does not say). */
export function defaultPartitions(routing: TaskRouting): number {
  return routing === 'node' ? DEFAULT_PARTITIONS_NODE_ROUTING : DEFAULT_PARTITIONS;
}

/** The routing a `task-routing` entry records; undefined when none is (no entry, or deleted). */
export function storedTaskRouting(entry: { operation: string; string(): string } | null | undefined): TaskRouting | undefined {
  if (entry?.operation !== 'PUT') return undefined;
  return entry.string() === 'node' ? 'node' : 'partition';
}

/** The cluster's routing as recorded, without recording one: undefined until a delivery node has. */
export async function readTaskRouting(js: JetStreamClient, replicas = 1): Promise<TaskRouting | undefined> {
  return storedTaskRouting(await (await openClusterKv(js, replicas)).get(TASK_ROUTING_KEY));
}

/**
 * How fan-out routes delivery tasks is fixed per cluster like the partition count: the first node
 * records its setting (DEFAULT_TASK_ROUTING, `node`, when none is given), every later node must agree. A cluster that
 * ran before the setting existed routes by partition (its nodes made `deliver-<p>` consumers), and
 * keeps doing so until `cluster:repartition --routing node`. With two routings in one cluster, tasks
 * would wait on subjects nobody consumes.
 */
export async function agreeTaskRouting(js: JetStreamClient, jsm: JetStreamManager, wanted: TaskRouting | undefined, replicas = 1): Promise<TaskRouting> {
  const kv = await openClusterKv(js, replicas);
  const stored = storedTaskRouting(await kv.get(TASK_ROUTING_KEY));
  if (stored) {
    if (wanted !== undefined && stored !== wanted)
      throw new PartitionMismatchError(`this cluster routes delivery tasks by ${stored} but DELIVERY_TASK_ROUTING is ${wanted}; refusing to start`);
    return stored;
  }
  const count = await kv.get(PARTITIONS_KEY);
  if (count?.operation === 'PUT' && parsePartitions(count.string()) === 'changing')
    throw new PartitionChangeInProgressError(`the partition count is being changed (${count.string()}); waiting`);
  const routing = (await routedByPartitionBefore(jsm)) ? 'partition' : (wanted ?? DEFAULT_TASK_ROUTING);
  if (wanted !== undefined && routing !== wanted)
    throw new PartitionMismatchError(
      `this cluster routed delivery tasks by partition before the routing was recorded, but DELIVERY_TASK_ROUTING is ${wanted}; refusing to start (cluster:repartition --routing changes it)`,
    );
  // Checked before anything is recorded: a routing recorded that the count cannot take would lock every later node out.
  const recordedCount = count?.operation === 'PUT' ? parsePartitions(count.string()) : null;
  if (routing === 'partition' && typeof recordedCount === 'number' && recordedCount > MAX_PARTITIONS_PARTITION_ROUTING)
    throw new PartitionMismatchError(
      `this cluster already has ${recordedCount} partitions (recorded by the config service before any delivery node started), more than partition routing allows (${MAX_PARTITIONS_PARTITION_ROUTING}); refusing to record it: leave DELIVERY_TASK_ROUTING unset or node`,
    );
  try {
    await kv.create(TASK_ROUTING_KEY, routing);
    return routing;
  } catch {
    return agreeTaskRouting(js, jsm, wanted, replicas); // created concurrently: check what won
  }
}

/** Did nodes of a release before the routing setting run on this cluster (they made a consumer per partition)? */
async function routedByPartitionBefore(jsm: JetStreamManager): Promise<boolean> {
  try {
    for await (const c of jsm.consumers.list(STREAM_DELIVERIES)) if (c.name.startsWith(DELIVERY_CONSUMER_PREFIX)) return true;
  } catch (err) {
    if (!streamNotFound(err)) throw err;
  }
  return false;
}
