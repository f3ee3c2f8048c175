import { Injectable, Logger } from '@nestjs/common';
import type { ConsumerInfo, NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { deliveryConsumer, InjectNats, KickedLoop, STREAM_DELIVERIES } from '@app/messaging';
import { DeliveriesRepository, DeliveryPagePosition } from '@app/persistence';
import { DeliveryMetrics } from '../delivery-metrics';
import { DeliveryDispatcher } from './delivery-dispatcher';
import { TaskRouter } from '../fanout/task-router';
import { PartitionConsumers } from './partition-consumers';
import { noTaskLeftBefore } from './task-clocks';

const BATCH = 1000;
/**
 * From this many partitions to check, one listing of the stream's consumers (256 to a page) is
 * cheaper than an info request each: a node holding 8192 partitions asked 8192 times a pass.
 */
export const LIST_FROM = 64;
/** Pages looked at per pass; the next pass goes on from the start. */
const MAX_PAGES = 20;

/**
 * Finds delivery rows that nothing will ever deliver: never scheduled (no next attempt time), older
 * than the reconcile age, on a partition this node has owned at least that long whose consumer has
 * nothing left to read and no task out with anyone but this node, and not held here. Their NATS task was lost (stream limits or data loss, a
 * crash between the commit and the publish); they are made due now, and the retry scanner takes
 * them from there. So every row ends SUCCEEDED or FAILED.
 */
@Injectable()
export class DeliveryReconciler {
  private readonly logger = new Logger(DeliveryReconciler.name);
  private readonly afterMs: number;
  private readonly loop: KickedLoop;
  private readonly ownedSince = new Map<number, number>();
  private partitions: () => ReadonlySet<number> = () => new Set();

  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    private readonly deliveries: DeliveriesRepository,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly consumers: PartitionConsumers,
    private readonly metrics: DeliveryMetrics,
    private readonly router: TaskRouter,
    config: AppConfig,
  ) {
    this.afterMs = config.reconcileAfterMs;
    this.loop = new KickedLoop(
      () => this.pass(),
      Math.max(1000, Math.min(30_000, this.afterMs / 4)),
      (err) => this.logger.warn(`reconcile pass failed: ${err.message}`),
      'reconciler',
    );
  }

  start(owned: () => ReadonlySet<number>): void {
    this.partitions = owned;
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    const owned = this.partitions();
    for (const p of this.ownedSince.keys()) if (!owned.has(p)) this.ownedSince.delete(p);
    for (const p of owned) if (!this.ownedSince.has(p)) this.ownedSince.set(p, now);
    // Long enough owned that any copy a previous owner held has come back to us (ack wait < age).
    const settled = [...owned].filter((p) => now - this.ownedSince.get(p)! >= this.afterMs);
    if (!settled.length) return;
    if (this.router.routing === 'node') return this.reDrive(settled, await noTaskLeftBefore(this.nc));
    const unacked = this.consumers.unackedByPartition();
    const infos = await this.consumerInfos(settled);
    // Nothing left to read, and every task handed out is one we hold (none still with a previous owner).
    const drained = settled.filter((p) => {
      const info = infos.get(p);
      return info && info.num_pending === 0 && info.num_ack_pending <= (unacked.get(p) ?? 0);
    });
    if (!drained.length) return;
    return this.reDrive(drained);
  }

  /**
   * Makes due the rows of these partitions that were never scheduled, are old enough (and written
   * before `createdBefore`), and are not held here. Node routing: a partition's tasks may be in any
   * node's mailbox, so no consumer says whether one is left; the stream's oldest message does
   * (noTaskLeftBefore).
   */
  private async reDrive(drained: number[], createdBefore?: Date): Promise<void> {
    // Pages in creation order past the rows this node holds (under a backlog it may hold thousands).
    let after: DeliveryPagePosition | undefined;
    let reDriven = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const rows = await this.deliveries.findUnscheduled(drained, this.afterMs / 1000, BATCH, after, createdBefore);
      const orphans = rows.filter((r) => !this.dispatcher.holds(r));
      if (orphans.length) {
        reDriven += await this.deliveries.markUnscheduledDue(orphans);
      }
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1];
    }
    if (!reDriven) return;
    this.metrics.reconciled.inc(reDriven);
    this.logger.warn(`re-drove ${reDriven} deliveries whose task was lost`);
  }

  /** The partitions' consumer states (a partition whose consumer cannot be read is left out). */
  private async consumerInfos(partitions: number[]): Promise<Map<number, ConsumerInfo>> {
    const out = new Map<number, ConsumerInfo>();
    if (!partitions.length) return out;
    const jsm = await this.nc.jetstreamManager();
    if (partitions.length < LIST_FROM) {
      for (const p of partitions) {
        const info = await jsm.consumers.info(STREAM_DELIVERIES, deliveryConsumer(p)).catch(() => null);
        if (info) out.set(p, info);
      }
      return out;
    }
    const wanted = new Map(partitions.map((p) => [deliveryConsumer(p), p]));
    for await (const info of jsm.consumers.list(STREAM_DELIVERIES)) {
      const p = wanted.get(info.name);
      if (p !== undefined) out.set(p, info);
    }
    return out;
  }
}
