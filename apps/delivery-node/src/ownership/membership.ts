import { Logger } from '@nestjs/common';
import type { KV, KvEntry } from 'nats';
import { CLUSTER_TIMING, ClusterTiming, NodeHeartbeat, NodeLoadReport, SupervisedLoop } from '@app/messaging';

/**
 * Live members of the delivery cluster: every node puts a heartbeat into KV `delivery-nodes`
 * (bucket TTL) and watches the bucket. A member is live while its heartbeats keep arriving (an
 * expired key makes no watch event, so silence is tracked locally) and until it deletes its key on
 * a graceful leave. This node always counts itself.
 */
export class Membership {
  private readonly logger = new Logger(Membership.name);
  /** node id -> Date.now() of its last heartbeat seen. */
  private readonly lastSeen = new Map<string, number>();
  private readonly listeners: Array<() => void> = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();
  private current: string[] = [];
  private left = false;
  private lastSweep = Date.now();
  private load?: () => Promise<NodeLoadReport>;

  constructor(
    private readonly kv: KV,
    readonly self: string,
    private readonly partitionsNow: () => number[],
    private readonly timing: Readonly<ClusterTiming> = CLUSTER_TIMING,
  ) {
    this.current = [self];
  }

  /** Sorted ids of the live members, this node included. */
  members(): string[] {
    return this.current;
  }

  /** Adds this node's load to every heartbeat. */
  reportLoad(fn: () => Promise<NodeLoadReport>): void {
    this.load = fn;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Announces this node and resolves once the existing members are known. */
  async start(): Promise<void> {
    await this.beat();
    await this.watchLoop.start();
    this.recompute();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.timing.heartbeatMs);
    this.sweepTimer = setInterval(() => this.recompute(), 250);
  }

  /**
   * Watches the bucket; the loop starts it again whenever it ends (e.g. its consumer could not be
   * recreated after a NATS outage), so this node never mistakes silence for being alone for long.
   */
  private readonly watchLoop = new SupervisedLoop('membership', async (session) => {
    this.snapshotDone = false;
    const watcher = await this.kv.watch({
      initializedFn: () => {
        this.snapshotDone = true;
        session.ready();
      },
    });
    session.onStop(() => watcher.stop());
    for await (const e of watcher) this.seen(e);
  });

  /** Graceful leave: stop heartbeating and delete the key so the others rebalance at once. */
  async leave(): Promise<void> {
    this.left = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    await this.watchLoop.stop();
    await this.kv.delete(this.self).catch((err) => this.logger.warn(`could not delete heartbeat: ${err.message}`));
  }

  stop(): Promise<void> {
    this.left = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.sweepTimer);
    return this.watchLoop.stop();
  }

  /** Puts this node's heartbeat now (also used to publish a changed partition list promptly). */
  async beat(): Promise<void> {
    if (this.left) return;
    const load = await this.load?.().catch(() => undefined);
    const hb: NodeHeartbeat = { node: this.self, started_at: this.startedAt, at: new Date().toISOString(), partitions: this.partitionsNow(), ...(load && { load }) };
    await this.kv.put(this.self, JSON.stringify(hb)).catch((err) => this.logger.warn(`heartbeat failed: ${err.message}`));
  }

  private snapshotDone = false;

  private seen(e: KvEntry): void {
    if (e.operation === 'PUT') {
      // A live heartbeat counts from when it arrived (our clock, not the server's); an old entry
      // from the initial snapshot counts from when it was written.
      this.lastSeen.set(e.key, this.snapshotDone ? Date.now() : Math.min(Date.now(), e.created.getTime()));
    } else {
      this.lastSeen.delete(e.key);
    }
    this.recompute();
  }

  private recompute(): void {
    const now = Date.now();
    const gap = now - this.lastSweep;
    this.lastSweep = now;
    if (gap > 2000) {
      // This process was paused or blocked: nobody's heartbeats could be seen meanwhile, so the
      // silence says nothing about the others. Keep the view until fresh heartbeats arrive.
      for (const [id, at] of this.lastSeen) this.lastSeen.set(id, at + gap);
    }
    const live = [this.self];
    for (const [id, at] of this.lastSeen) {
      if (id !== this.self && now - at <= this.timing.memberTtlMs) live.push(id);
    }
    live.sort();
    if (live.length === this.current.length && live.every((id, i) => id === this.current[i])) return;
    this.logger.log(`members: ${live.join(', ')}`);
    this.current = live;
    for (const fn of this.listeners) fn();
  }
}
