import { JetStreamClient, KV } from 'nats';
import { KV_DELIVERY_NODES, KV_PARTITION_LEASES } from './names';

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
  /** A lease not renewed for this long expires in NATS (bucket max_age). */
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
}

export interface PartitionLease {
  node: string;
  /** Random per process start: a restarted node (same id) recognises its predecessor's leases. */
  incarnation?: string;
  acquired_at: string;
}

export function openNodesKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_DELIVERY_NODES, { history: 1, replicas, ttl: CLUSTER_TIMING.memberTtlMs });
}

export function openLeasesKv(js: JetStreamClient, replicas = 1): Promise<KV> {
  return js.views.kv(KV_PARTITION_LEASES, { history: 1, replicas, ttl: CLUSTER_TIMING.leaseTtlMs });
}

export function leaseKey(partition: number): string {
  return String(partition);
}
