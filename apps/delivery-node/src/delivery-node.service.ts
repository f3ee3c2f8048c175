import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { MAX_PARTITIONS_PARTITION_ROUTING } from '@app/hashing';
import {
  agreePartitions,
  agreeTaskRouting,
  defaultPartitions,
  CLUSTER_TIMING,
  retireEarlierReleaseLeases,
  ensureStreams,
  InjectNats,
  KV_NODE_LEASES,
  KV_PARTITION_OWNERS,
  latestEntry,
  mailboxToken,
  openNodeLeasesKv,
  openNodesKv,
  openPartitionOwnersKv,
  PartitionMismatchError,
  untilDone,
} from '@app/messaging';
import { listForLog } from './log-lists';
import { DeliveryMetrics } from './delivery-metrics';
import { DeliveryRecorder } from './delivery/delivery-recorder';
import { MailboxJanitor } from './delivery/mailbox-janitor';
import { PartitionConsumers } from './delivery/partition-consumers';
import { RetryScanner } from './delivery/retry-scanner';
import { DeliveryReconciler } from './delivery/delivery-reconciler';
import { EventFanout } from './fanout/event-fanout';
import { FanoutAudit } from './fanout/fanout-audit';
import { FanoutConsumer } from './fanout/fanout.consumer';
import { TaskRouter } from './fanout/task-router';
import { NodeIdentity } from './node-identity';
import { LeasedOwnership } from './ownership/leased-ownership';
import { Membership } from './ownership/membership';
import { NodeLoad } from './ownership/node-load';
import { OwnershipFence } from './ownership/partition-fence';
import { PartitionOwnership } from './ownership/partition-ownership';
import { StaticOwnership } from './ownership/static-ownership';
import { WebhookIndexWatcher } from './webhook-index/webhook-index.watcher';

/**
 * Start-up and shutdown order of a delivery node: streams, partition count, webhook index, then
 * fan-out and the partitions this node owns; on SIGTERM the reverse, handing work back promptly.
 */
@Injectable()
export class DeliveryNodeService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeliveryNodeService.name);
  private ownership?: PartitionOwnership;
  ready = false;

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly node: NodeIdentity,
    private readonly watcher: WebhookIndexWatcher,
    private readonly fanout: FanoutConsumer,
    private readonly audit: FanoutAudit,
    private readonly eventFanout: EventFanout,
    private readonly consumers: PartitionConsumers,
    private readonly scanner: RetryScanner,
    private readonly reconciler: DeliveryReconciler,
    private readonly metrics: DeliveryMetrics,
    private readonly recorder: DeliveryRecorder,
    private readonly fence: OwnershipFence,
    private readonly load: NodeLoad,
    private readonly router: TaskRouter,
    private readonly janitor: MailboxJanitor,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const env = this.config;
    await untilDone('creating the streams', async () => ensureStreams(await this.nc.jetstreamManager(), env.streamReplicas));
    // The routing first: a new cluster's default partition count depends on it.
    const routing = await untilDone(
      'reading the task routing',
      async () => agreeTaskRouting(this.nc.jetstream(), await this.nc.jetstreamManager(), env.taskRouting, env.streamReplicas),
      (err) => err instanceof PartitionMismatchError,
    );
    const partitions = await untilDone(
      'reading the partition count',
      () => agreePartitions(this.nc.jetstream(), env.partitions, env.streamReplicas, defaultPartitions(routing)),
      (err) => err instanceof PartitionMismatchError,
    );
    if (routing === 'partition' && partitions > MAX_PARTITIONS_PARTITION_ROUTING)
      throw new Error(
        `this cluster has ${partitions} partitions and routes tasks by partition, which allows at most ${MAX_PARTITIONS_PARTITION_ROUTING} (a consumer each); cluster:repartition --routing node`,
      );
    await this.watcher.start();
    // DELIVERY_OWNERSHIP=static: this node delivers every partition (only for a node that runs alone).
    const leased = env.ownership === 'leased';
    this.ownership = leased ? await this.leasedOwnership(partitions, env.streamReplicas) : new StaticOwnership(partitions, this.node.id);
    this.fence.use(this.ownership);
    this.router.use(routing, this.ownership);
    if (routing === 'node') {
      this.consumers.useMailbox(this.node.id, partitions);
      void this.consumers.startMailbox();
    }
    this.load.use(this.ownership);
    this.ownership.onChange(async ({ gained, lost }) => {
      if (lost.length) await this.consumers.stop(lost);
      // Tasks a crashed or fenced previous owner had pulled come back after the consumer's ack wait.
      // (Deleting and re-creating the durable consumer to get them sooner is not an option: on a
      // work-queue stream the server drops the messages the deleted consumer had not acked.)
      // Each partition consumer retries and restarts by itself; readiness shows it until it runs.
      for (const p of gained) void this.consumers.start(p);
      if (gained.length || lost.length)
        this.logger.log(`partitions ${gained.length ? `+[${listForLog(gained)}]` : ''}${lost.length ? ` -[${listForLog(lost)}]` : ''}; now ${this.ownership!.owned().size}`);
      this.metrics.ownedPartitions.set(this.ownership!.owned().size);
    });
    await this.fanout.start(partitions);
    await this.ownership.start();
    this.scanner.start(() => this.ownership?.owned() ?? new Set());
    this.reconciler.start(() => this.ownership?.owned() ?? new Set());
    // One node audits fan-out: whichever owns partition 0 (every node computes the same owner).
    this.audit.start(partitions, () => this.ownership?.owned().has(0) ?? false);
    // With node routing, the same node empties the mailboxes of nodes that are gone (a node that runs
    // alone: those of its earlier processes, under other ids).
    if (routing === 'node')
      this.janitor.start(
        () => this.ownership?.owned().has(0) ?? false,
        () => new Set((leased ? this.ownership!.liveMembers() : [this.node.id]).map(mailboxToken)),
      );
    this.ready = true;
    this.logger.log(`delivery node ${this.node.id} ready: ${partitions} partitions (tasks routed by ${routing}), ${this.consumers.active.length} consumed here`);
  }

  private async leasedOwnership(partitions: number, replicas: number): Promise<LeasedOwnership> {
    const js = this.nc.jetstream();
    await this.earlierReleaseStopped();
    const [nodesKv, leasesKv, ownersKv] = await untilDone('opening the cluster buckets', () =>
      Promise.all([openNodesKv(js, replicas), openNodeLeasesKv(js, replicas), openPartitionOwnersKv(js, replicas)]),
    );
    const membership = new Membership(nodesKv, this.node.id, () => [...(this.ownership?.owned() ?? [])].sort((a, b) => a - b));
    membership.reportLoad(() => this.load.report());
    await membership.start();
    const jsm = await this.nc.jetstreamManager();
    const bucket = { nodes: KV_NODE_LEASES, partitions: KV_PARTITION_OWNERS };
    return new LeasedOwnership(partitions, { nodes: leasesKv, partitions: ownersKv, latest: (b, key) => latestEntry(jsm, bucket[b], key) }, membership);
  }

  /** Nodes of a release with per-partition leases do not see node leases: never deliver beside one. */
  private async earlierReleaseStopped(): Promise<void> {
    for (let said = false; ; said = true) {
      const left = await untilDone('reading the leases of an earlier release', async () => retireEarlierReleaseLeases(await this.nc.jetstreamManager()));
      if (!left) return;
      if (!said)
        this.logger.warn(
          `waiting for delivery nodes of an earlier release to stop: ${left} entries left in their lease bucket (they expire ${CLUSTER_TIMING.leaseTtlMs / 1000} s after the last node stops)`,
        );
      await new Promise((r) => setTimeout(r, CLUSTER_TIMING.retryMs));
    }
  }

  /** Runs before NATS and Postgres connections close, so handed-back work and outcomes get through. */
  async beforeApplicationShutdown(): Promise<void> {
    this.ready = false;
    await this.audit.stop();
    await this.fanout.stop();
    this.eventFanout.close();
    await this.scanner.stop();
    await this.reconciler.stop();
    await this.janitor.stop();
    await this.ownership?.stop();
    await this.consumers.stopMailbox();
    await this.recorder.flushAll();
  }
}
