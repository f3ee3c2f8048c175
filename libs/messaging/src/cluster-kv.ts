import { JetStreamClient, JetStreamManager, KV } from 'nats';
import { KV_DELIVERY_NODES, KV_NODE_LEASES, KV_PARTITION_LEASES_BEFORE_NODE_LEASES, KV_PARTITION_OWNERS } from './names';
import { isJetStreamError, streamNotFound } from './nats-errors';

/**
 * Timings of delivery-cluster membership and partition leases. The bucket TTLs are fixed when a
 * bucket is created, so every node (and the operator view) must use the same numbers.
 */
export interface ClusterTiming {
  heartbeatMs: number;
  memberTtlMs: number;
  leaseTtlMs: number;
  renewMs: number;
  fenceMarginMs: number;
  retryMs: number;
  handoverGapMs: number;
}

export const CLUSTER_TIMING: Readonly<ClusterTiming> = {
  /** A node puts its heartbeat this often... */
  heartbeatMs: 1500,
  /** ...and counts as gone when none was seen for this long (also the bucket's max_age). */
  memberTtlMs: 6000,
  /** A node lease not renewed for this long expires in NATS (bucket max_age), and with it every partition held under it. */
  leaseTtlMs: 10_000,
  renewMs: 2500,
  /**
   * A holder stops delivering a partition once its last successful renewal is older than
   * leaseTtlMs - fenceMarginMs, so it has stopped well before anyone else can take the lease. The
   * margin covers what can pass between the last fence check and the request going out (the
   * delivery connect timeout is 3 s); a send still in flight when the fence trips is cut within
   * about 100 ms, so none outlives the holder's right to send.
   */
  fenceMarginMs: 5000,
  /** A partition whose lease someone else still holds is tried again this often (and on release). */
  retryMs: 1000,
  /**
   * After taking over a released lease, wait this long before sending: the previous owner's last
   * sends then fall out of every one-second rate-limit window (pacing window 1.1 s plus margin).
   */
  handoverGapMs: 1300,
};

export interface NodeHeartbeat {
  node: string;
  started_at: string;
  at: string;
  /** Partitions this node delivers now. */
  partitions: number[];
  /** Its load and lease health, when it reports them. */
  load?: NodeLoadReport;
}

export interface NodeLoadReport {
  attempts_last_minute: number;
  held_leases: number;
  /** Since the least recently renewed lease it holds was last renewed (its own clock). */
  oldest_lease_renewal_ms: number;
  /** Partitions it owns whose stream consumer has not been running for a few seconds (absent from older nodes). */
  stalled_partitions?: number[];
}

/**
 * A delivery node's lease (KV `node-leases`, key = node id): created with a new random `lease` id
 * whenever the node (re)gains it, renewed with CAS updates. Its key expiring (bucket TTL) or carrying
 * another id ends every partition held under the old id.
 */
export interface NodeLease {
  node: string;
  lease: string;
  /** Random per process start: a process never replaces a live lease of another one with the same node id. */
  incarnation: string;
  since: string;
}

/**
 * A partition's holder (KV `partition-owners`, key = partition, no TTL): valid while the holder's
 * node lease still carries this `lease` id. Written on take-over and deleted on release only.
 */
export interface PartitionOwner {
  node: string;
  lease: string;
  acquired_at: string;
}

export function openNodesKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_DELIVERY_NODES, { history: 1, replicas, ttl: CLUSTER_TIMING.memberTtlMs });
}

export function openNodeLeasesKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_NODE_LEASES, { history: 1, replicas, ttl: CLUSTER_TIMING.leaseTtlMs });
}

export function openPartitionOwnersKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_PARTITION_OWNERS, { history: 1, replicas });
}

export function partitionKey(partition: number): string {
  return String(partition);
}

/** A KV key's latest entry (the part of nats.js's KvEntry that ownership decisions read). */
export interface LatestEntry {
  revision: number;
  operation: 'PUT' | 'DEL' | 'PURGE';
  json<T>(): T;
}

/**
 * A key's latest entry as its bucket's stream leader has it, or null if it has none. `kv.get` is a
 * direct get, which any replica may answer, one still catching up after a network partition among
 * them: it can be stale for seconds. A write is checked by its CAS anyway, but a decision that rests
 * on a read alone (another node's lease is gone, a key no longer names us) must not be stale.
 */
export async function latestEntry(jsm: JetStreamManager, bucket: string, key: string): Promise<LatestEntry | null> {
  try {
    const m = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${key}` });
    const operation = (m.header?.get('KV-Operation') || 'PUT') as LatestEntry['operation'];
    return { revision: m.seq, operation, json: <T>() => m.json<T>() };
  } catch (err) {
    if (isJetStreamError(err, 'NoMessageFound')) return null;
    throw err;
  }
}

/**
 * Entries (leases or their delete markers) left in the per-partition lease bucket of releases before
 * node leases; 0 once none is left, and the bucket is then deleted. Nodes of such a release do not
 * see node leases, so a node waits until this is 0: every such node stopped and its leases expired
 * (bucket TTL), which an upgrade's stop of the old nodes gives. With the bucket gone, such a node that
 * was only paused cannot take a lease again when it resumes: its writes find no bucket.
 */
export async function retireEarlierReleaseLeases(jsm: JetStreamManager): Promise<number> {
  const stream = `KV_${KV_PARTITION_LEASES_BEFORE_NODE_LEASES}`;
  try {
    const left = (await jsm.streams.info(stream)).state.messages;
    if (!left) await jsm.streams.delete(stream);
    return left;
  } catch (err) {
    if (streamNotFound(err)) return 0;
    throw err;
  }
}
