import { Injectable } from '@nestjs/common';
import type { ConsumerInfo, KV, NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { balancedAssignment } from '@app/hashing';
import {
  CLUSTER_TIMING,
  deliveryConsumer,
  mailboxConsumer,
  InjectNats,
  NodeHeartbeat,
  NodeLease,
  openClusterKv,
  openNodeLeasesKv,
  openNodesKv,
  openPartitionOwnersKv,
  PartitionOwner,
  STREAM_DELIVERIES,
  streamNotFound,
} from '@app/messaging';

export interface ClusterNodeView {
  node: string;
  started_at: string;
  heartbeat_age_ms: number;
  /** Partitions whose lease this node holds. */
  partitions: number[];
  /** Partitions the node says (in its last heartbeat) it is delivering now. */
  delivering: number[];
  /** How many partitions the balanced assignment of the live nodes gives it (what it converges to). */
  assigned_partitions: number;
  /** Its delivery attempts in the last minute (null from a node that does not report load). */
  attempts_last_minute: number | null;
  /** Since its node lease, under which it holds its partitions, was last renewed (the lease bucket's clock); null if it holds none. */
  oldest_lease_age_ms: number | null;
  /** By its own clock: since its node lease was last renewed. */
  oldest_lease_renewal_ms: number | null;
  /** Stopped delivering some partitions it holds because their leases are too old to trust, or it is silent. */
  fenced: boolean;
  /**
   * Partitions it owns whose stream consumer has not been running for a few seconds (e.g. no
   * JetStream leader for it); their tasks wait meanwhile. Null from a node that does not report it.
   */
  stalled_partitions: number[] | null;
  /**
   * Node routing: tasks in this node's mailbox not yet settled (waiting plus taken and unacked);
   * null with partition routing, where each partition's `lag` says it.
   */
  mailbox_lag: number | null;
}

const lagOf = (info: ConsumerInfo | undefined) => (info ? info.num_pending + info.num_ack_pending : null);

export interface ClusterBalanceView {
  mean_partitions: number;
  /** Busiest node's partitions over the mean: 1.0 is perfect balance. */
  max_partitions_over_mean: number;
  mean_attempts_last_minute: number;
  /** Busiest node's attempts in the last minute over the mean (1.0 when idle). */
  max_attempts_over_mean: number;
}

export interface ClusterPartitionView {
  partition: number;
  /** Holder, or null while nobody holds it (e.g. during a handover, or its holder's node lease expired). */
  owner: string | null;
  /** Since the holder's node lease was last renewed (it expires at lease_ttl_ms). */
  lease_age_ms: number | null;
  held_since: string | null;
  /** Tasks not yet delivered to the consumer plus delivered but not acknowledged; null with node routing (see the nodes' mailbox_lag). */
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
  /**
   * Partitions where who delivers (the nodes' last heartbeats) is not who holds (the partition keys):
   * for a second or two in a handover; one listed for longer is stuck, e.g. a key left naming a
   * node that no longer delivers it.
   */
  mismatched_partitions: number[];
  /** Every node's stalled_partitions together (each once): owned, but their stream consumer not running. */
  stalled_partitions: number[];
  total_lag: number;
  balance: ClusterBalanceView;
}

function balanceOf(nodes: readonly ClusterNodeView[], partitions: number): ClusterBalanceView {
  const round = (x: number) => Math.round(x * 100) / 100;
  if (!nodes.length) return { mean_partitions: 0, max_partitions_over_mean: 0, mean_attempts_last_minute: 0, max_attempts_over_mean: 0 };
  const meanPartitions = partitions / nodes.length;
  const attempts = nodes.map((n) => n.attempts_last_minute ?? 0);
  const meanAttempts = attempts.reduce((a, b) => a + b, 0) / nodes.length;
  return {
    mean_partitions: round(meanPartitions),
    max_partitions_over_mean: meanPartitions ? round(Math.max(...nodes.map((n) => n.partitions.length)) / meanPartitions) : 0,
    mean_attempts_last_minute: round(meanAttempts),
    max_attempts_over_mean: meanAttempts ? round(Math.max(...attempts) / meanAttempts) : 1,
  };
}

/** Partitions whose delivering nodes (by heartbeat) are not exactly their holder. */
function mismatched(partitions: readonly ClusterPartitionView[], nodes: ReadonlyArray<{ value: NodeHeartbeat }>): number[] {
  const deliverers = new Map<number, string[]>();
  for (const n of nodes) for (const p of n.value.partitions ?? []) deliverers.set(p, [...(deliverers.get(p) ?? []), n.value.node]);
  return partitions.filter((v) => (deliverers.get(v.partition) ?? []).join() !== (v.owner ?? '')).map((v) => v.partition);
}

const ENTRIES_TIMEOUT_MS = 15_000;

async function entries<T>(kv: KV): Promise<Array<{ key: string; value: T; created: Date }>> {
  // One watch over the bucket's latest values, not a get per key: 8192 partition keys as as many
  // requests at once timed out on a loaded machine.
  const out = new Map<string, { key: string; value: T; created: Date }>();
  let seen = 0;
  let complete = false;
  const holder: { watch?: { stop(): void } } = {};
  const watch = await kv.watch({
    initializedFn: () => {
      complete = true;
      if (!seen) holder.watch?.stop(); // an empty bucket: nothing will come
    },
  });
  holder.watch = watch;
  if (complete && !seen) watch.stop(); // initializedFn already ran (an empty bucket is said at once)
  const timer = setTimeout(() => watch.stop(), ENTRIES_TIMEOUT_MS);
  try {
    for await (const e of watch) {
      seen++;
      if (e.operation === 'PUT') out.set(e.key, { key: e.key, value: e.json<T>(), created: e.created });
      else out.delete(e.key);
      if (e.delta === 0) {
        complete = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  // ETIMEDOUT: a dependency that did not answer in time (503 with Retry-After), not a bug.
  if (!complete) throw Object.assign(new Error(`reading a KV bucket took over ${ENTRIES_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' });
  return [...out.values()];
}

/** The operator's view of the delivery cluster, read from NATS only: members, node leases, partition holders, lag. */
@Injectable()
export class ClusterStatusService {
  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly config: AppConfig,
  ) {}

  async status(): Promise<ClusterView> {
    const replicas = this.config.streamReplicas;
    const js = this.nc.jetstream();
    const [nodesKv, leasesKv, ownersKv, clusterKv, jsm] = await Promise.all([
      openNodesKv(js, replicas),
      openNodeLeasesKv(js, replicas),
      openPartitionOwnersKv(js, replicas),
      openClusterKv(js, replicas),
      this.nc.jetstreamManager(),
    ]);
    const [nodes, nodeLeases, owners, stored, consumers] = await Promise.all([
      entries<NodeHeartbeat>(nodesKv),
      entries<NodeLease>(leasesKv),
      entries<PartitionOwner>(ownersKv),
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
    // A partition is held only while its holder's node lease carries the id it was taken under.
    const nodeLeaseOf = new Map(nodeLeases.map((l) => [l.key, l]));
    const leaseOf = new Map(
      owners.flatMap((o) => {
        const lease = nodeLeaseOf.get(o.value.node);
        return lease?.value.lease === o.value.lease ? [[Number(o.key), { owner: o.value, renewed: lease.created }] as const] : [];
      }),
    );
    const count = partitions ?? Math.max(-1, ...leaseOf.keys()) + 1;
    const partitionViews: ClusterPartitionView[] = [];
    for (let p = 0; p < count; p++) {
      const lease = leaseOf.get(p);
      const info = consumers.get(deliveryConsumer(p));
      partitionViews.push({
        partition: p,
        owner: lease?.owner.node ?? null,
        lease_age_ms: lease ? Math.max(0, now - lease.renewed.getTime()) : null,
        held_since: lease?.owner.acquired_at ?? null,
        lag: lagOf(info),
        num_pending: info?.num_pending ?? null,
        num_ack_pending: info?.num_ack_pending ?? null,
      });
    }
    const assigned = balancedAssignment(
      Math.max(1, count),
      nodes.map((n) => n.value.node),
    );
    const fenceAfterMs = CLUSTER_TIMING.leaseTtlMs - CLUSTER_TIMING.fenceMarginMs;
    const nodeViews: ClusterNodeView[] = nodes
      .map((n) => {
        // What the leases say (authoritative), not what the heartbeat last claimed.
        const held = partitionViews.filter((v) => v.owner === n.value.node);
        const heartbeatAge = Math.max(0, now - n.created.getTime());
        const renewal = n.value.load?.oldest_lease_renewal_ms ?? null;
        return {
          node: n.value.node,
          started_at: n.value.started_at,
          heartbeat_age_ms: heartbeatAge,
          partitions: held.map((v) => v.partition),
          delivering: n.value.partitions ?? [],
          assigned_partitions: assigned.get(n.value.node)?.length ?? 0,
          attempts_last_minute: n.value.load?.attempts_last_minute ?? null,
          oldest_lease_age_ms: held.length ? Math.max(...held.map((v) => v.lease_age_ms ?? 0)) : null,
          oldest_lease_renewal_ms: renewal,
          fenced: heartbeatAge > CLUSTER_TIMING.memberTtlMs || (renewal ?? 0) > fenceAfterMs,
          stalled_partitions: n.value.load?.stalled_partitions ?? null,
          mailbox_lag: lagOf(consumers.get(mailboxConsumer(n.value.node))),
        };
      })
      .sort((a, b) => a.node.localeCompare(b.node));
    return {
      partitions,
      lease_ttl_ms: CLUSTER_TIMING.leaseTtlMs,
      member_ttl_ms: CLUSTER_TIMING.memberTtlMs,
      nodes: nodeViews,
      balance: balanceOf(nodeViews, count),
      partition_leases: partitionViews,
      unowned_partitions: partitionViews.filter((v) => !v.owner).map((v) => v.partition),
      mismatched_partitions: mismatched(partitionViews, nodes),
      stalled_partitions: [...new Set(nodeViews.flatMap((n) => n.stalled_partitions ?? []))].sort((a, b) => a - b),
      // Partition consumers (partition routing) and node mailboxes (node routing): one of the two is empty.
      total_lag: partitionViews.reduce((s, v) => s + (v.lag ?? 0), 0) + nodeViews.reduce((s, n) => s + (n.mailbox_lag ?? 0), 0),
    };
  }
}
