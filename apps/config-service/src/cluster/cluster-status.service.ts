import { Injectable } from '@nestjs/common';
import type { ConsumerInfo, KV, NatsConnection } from 'nats';
import { loadEnv } from '@app/config';
import {
  CLUSTER_TIMING, deliveryConsumer, InjectNats, NodeHeartbeat, openClusterKv, openLeasesKv, openNodesKv, PartitionLease, STREAM_DELIVERIES, streamNotFound,
} from '@app/messaging';

export interface ClusterNodeView {
  node: string;
  started_at: string;
  heartbeat_age_ms: number;
  /** Partitions whose lease this node holds. */
  partitions: number[];
  /** Partitions the node says (in its last heartbeat) it is delivering now. */
  delivering: number[];
}

export interface ClusterPartitionView {
  partition: number;
  /** Lease holder, or null while nobody holds it (e.g. during a handover). */
  owner: string | null;
  /** Since the lease's last renewal (expires at lease_ttl_ms). */
  lease_age_ms: number | null;
  held_since: string | null;
  /** Tasks not yet delivered to the consumer plus delivered but not acknowledged. */
  lag: number | null;
  num_pending: number | null;
  num_ack_pending: number | null;
}

export interface ClusterView {
  partitions: number | null;
  lease_ttl_ms: number;
  member_ttl_ms: number;
  nodes: ClusterNodeView[];
  partition_leases: ClusterPartitionView[];
  unowned_partitions: number[];
  total_lag: number;
}

async function entries<T>(kv: KV): Promise<Array<{ key: string; value: T; created: Date }>> {
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  const out = await Promise.all(keys.map((k) => kv.get(k)));
  return out.flatMap((e) => (e && e.operation === 'PUT' ? [{ key: e.key, value: e.json<T>(), created: e.created }] : []));
}

/** The operator's view of the delivery cluster, read from NATS only: members, leases, lag. */
@Injectable()
export class ClusterStatusService {
  constructor(@InjectNats() private readonly nc: NatsConnection) {}

  async status(): Promise<ClusterView> {
    const replicas = loadEnv().streamReplicas;
    const js = this.nc.jetstream();
    const [nodesKv, leasesKv, clusterKv, jsm] = await Promise.all([openNodesKv(js, replicas), openLeasesKv(js, replicas), openClusterKv(js, replicas), this.nc.jetstreamManager()]);
    const [nodes, leases, stored, consumers] = await Promise.all([
      entries<NodeHeartbeat>(nodesKv),
      entries<PartitionLease>(leasesKv),
      clusterKv.get('partitions'),
      (async () => {
        const map = new Map<string, ConsumerInfo>();
        try {
          for await (const page of jsm.consumers.list(STREAM_DELIVERIES)) map.set(page.name, page);
        } catch (err) {
          if (!streamNotFound(err)) throw err;
        }
        return map;
      })(),
    ]);
    const now = Date.now();
    const partitions = stored?.operation === 'PUT' ? Number(stored.string()) : null;
    const leaseOf = new Map(leases.map((l) => [Number(l.key), l]));
    const count = partitions ?? Math.max(-1, ...leases.map((l) => Number(l.key))) + 1;
    const partitionViews: ClusterPartitionView[] = [];
    for (let p = 0; p < count; p++) {
      const lease = leaseOf.get(p);
      const info = consumers.get(deliveryConsumer(p));
      partitionViews.push({
        partition: p,
        owner: lease?.value.node ?? null,
        lease_age_ms: lease ? Math.max(0, now - lease.created.getTime()) : null,
        held_since: lease?.value.acquired_at ?? null,
        lag: info ? info.num_pending + info.num_ack_pending : null,
        num_pending: info?.num_pending ?? null,
        num_ack_pending: info?.num_ack_pending ?? null,
      });
    }
    return {
      partitions,
      lease_ttl_ms: CLUSTER_TIMING.leaseTtlMs,
      member_ttl_ms: CLUSTER_TIMING.memberTtlMs,
      nodes: nodes
        .map((n) => ({
          node: n.value.node,
          started_at: n.value.started_at,
          heartbeat_age_ms: Math.max(0, now - n.created.getTime()),
          // What the leases say (authoritative), not what the heartbeat last claimed.
          partitions: partitionViews.filter((v) => v.owner === n.value.node).map((v) => v.partition),
          delivering: n.value.partitions ?? [],
        }))
        .sort((a, b) => a.node.localeCompare(b.node)),
      partition_leases: partitionViews,
      unowned_partitions: partitionViews.filter((v) => !v.owner).map((v) => v.partition),
      total_lag: partitionViews.reduce((s, v) => s + (v.lag ?? 0), 0),
    };
  }
}
