import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { KvWatchInclude, type KV, type KvEntry } from 'nats';
import { balancedAssignment } from '@app/hashing';
import { CLUSTER_TIMING, ClusterTiming, ConcurrencyGate, leaseKey, PartitionLease, SupervisedLoop, wrongLastSequence } from '@app/messaging';
import type { Membership } from './membership';
import { OwnershipHandler, PartitionOwnership } from './partition-ownership';

interface Lease {
  revision: number;
  /** performance.now() when the last successful create/update was sent (the server's clock starts later). */
  renewedAt: number;
  acquiredAt: string;
  /** performance.now() from which this node may deliver the partition. */
  activeFrom: number;
  renewing?: Promise<void>;
  /** Set once a renewal showed that the lease is no longer ours. */
  gone?: boolean;
}

const monotonic = () => performance.now();
/** Lease writes in flight at once: a thousand at a time would all time out together on a busy server (each renewal's clock starts when it is sent). */
const LEASE_WRITES_IN_FLIGHT = 64;
const INCARNATION = randomUUID();

/**
 * Consistent-hash ownership with leases: this node wants its share of the balanced assignment
 * (capped rendezvous, libs/hashing) of the live members; it delivers one only while holding its lease in KV `partition-leases`
 * (CAS create, renewed with update(revision)). Losing a partition (membership change, a failed
 * renewal, or a lease too old to trust) first stops delivery through the handler, then deletes the
 * lease (CAS on our revision, so another holder's lease is never touched).
 */
export class LeasedOwnership extends PartitionOwnership {
  private readonly logger = new Logger(LeasedOwnership.name);
  private readonly leases = new Map<number, Lease>();
  private readonly active = new Set<number>();
  private handler: OwnershipHandler = async () => undefined;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private stopping = false;
  private timers: NodeJS.Timeout[] = [];
  private renewTimer?: NodeJS.Timeout;
  private wake?: NodeJS.Timeout;
  private assignment?: { key: string; mine: ReadonlySet<number> };
  private readonly writes = new ConcurrencyGate(LEASE_WRITES_IN_FLIGHT);

  constructor(
    readonly partitions: number,
    private readonly kv: KV,
    private readonly membership: Membership,
    private readonly timing: Readonly<ClusterTiming> = CLUSTER_TIMING,
  ) {
    super();
  }

  get self(): string {
    return this.membership.self;
  }

  owned(): ReadonlySet<number> {
    return this.active;
  }

  /** Synchronous fencing check for the send path: active and the lease renewed recently enough. */
  mayDeliver(partition: number): boolean {
    return this.active.has(partition) && this.leaseTrusted(partition);
  }

  /**
   * A send in flight may go on while the lease is held and trusted, also once the partition is no
   * longer active: lose() stops new sends at once but releases the lease only after the handler has
   * waited for the sends in flight, so they end before anyone else can send for the partition.
   */
  mayContinue(partition: number): boolean {
    return this.leaseTrusted(partition);
  }

  private leaseTrusted(partition: number): boolean {
    const lease = this.leases.get(partition);
    return !!lease && !lease.gone && !this.stale(lease, monotonic());
  }

  leaseAges(): Map<number, number> {
    const now = monotonic();
    return new Map([...this.leases].map(([p, l]) => [p, now - l.renewedAt]));
  }

  /** Leases held (including ones still in their handover gap), for status output. */
  held(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  /** A released lease: try to take it at once instead of waiting for the next retry (a speed-up; the retry timer is the guarantee). */
  private readonly leaseWatch = new SupervisedLoop('lease-watch', async (session) => {
    const watcher = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    session.onStop(() => watcher.stop());
    session.ready();
    for await (const e of watcher) if (e.operation !== 'PUT' && !this.leases.has(Number(e.key))) this.kick();
  });

  onChange(handler: OwnershipHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.membership.onChange(() => this.kick());
    await this.leaseWatch.start();
    this.renewTimer = setInterval(() => this.renewAll(), this.timing.renewMs);
    this.timers.push(setInterval(() => this.kick(), this.timing.retryMs));
    // Fencing: notice a lease that went stale (e.g. after the process was paused) within 250 ms.
    this.timers.push(setInterval(() => this.checkFences(), 250));
    this.kick();
    await this.chain;
  }

  /** Graceful leave: hand everything back and release every lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.wake);
    await this.leaseWatch.stop();
    await this.membership.leave();
    this.queued = false;
    await this.chain;
    const all = [...this.leases.keys()];
    await this.lose(all, 'shutdown'); // leases keep being renewed until they are handed back
    clearInterval(this.renewTimer);
    await this.membership.stop();
  }

  /** Schedules one reconciliation (they run one at a time; handler calls never overlap). */
  private kick(): void {
    if (this.stopping || this.queued) return;
    this.queued = true;
    this.chain = this.chain
      .then(() => {
        this.queued = false;
        return this.reconcile();
      })
      .catch((err) => this.logger.warn(`ownership reconcile failed: ${(err as Error).message}`));
  }

  /** This node's share under the balanced assignment of the live members (computed once per membership). */
  private desired(): ReadonlySet<number> {
    const members = this.membership.members();
    const key = members.join('\n');
    if (this.assignment?.key !== key) this.assignment = { key, mine: new Set(balancedAssignment(this.partitions, members).get(this.self)) };
    return this.assignment.mine;
  }

  private stale(lease: Lease, now: number): boolean {
    return now - lease.renewedAt > this.timing.leaseTtlMs - this.timing.fenceMarginMs;
  }

  private checkFences(): void {
    const now = monotonic();
    for (const lease of this.leases.values()) if (lease.gone || this.stale(lease, now)) return this.kick();
  }

  private async reconcile(): Promise<void> {
    if (this.stopping) return;
    const desired = this.desired();
    const now = monotonic();
    const untrusted = [...this.leases].filter(([, l]) => l.gone || this.stale(l, now)).map(([p]) => p);
    if (untrusted.length) this.logger.warn(`fenced: leases of partitions ${untrusted.join(',')} are no longer safe to hold; stopping them`);
    const unwanted = [...this.leases.keys()].filter((p) => !desired.has(p) && !untrusted.includes(p));
    await this.lose([...untrusted, ...unwanted], 'rebalance');

    const missing = [...desired].filter((p) => !this.leases.has(p));
    await Promise.all(missing.map((p) => this.writes.run(() => this.acquire(p))));

    const t = monotonic();
    const gained = [...this.leases].filter(([p, l]) => !this.active.has(p) && l.activeFrom <= t && !l.gone).map(([p]) => p);
    if (gained.length) {
      for (const p of gained) this.active.add(p);
      const failed = (await this.handler({ gained: gained.sort((a, b) => a - b), lost: [] })) ?? [];
      // Keep the lease but not the partition: the next reconcile (within retryMs) starts it again.
      for (const p of failed) this.active.delete(p);
      void this.membership.beat();
    }
    const waiting = [...this.leases].filter(([p]) => !this.active.has(p)).map(([, l]) => l.activeFrom - monotonic());
    if (waiting.length) {
      clearTimeout(this.wake);
      this.wake = setTimeout(() => this.kick(), Math.max(10, Math.min(...waiting) + 5));
    }
  }

  /**
   * Stops delivering these partitions (handler first: no new sends, the ones in flight answered and
   * recorded while the lease is still renewed), then deletes our leases of them.
   */
  private async lose(partitions: number[], why: string): Promise<void> {
    if (!partitions.length) return;
    const stopped = partitions.filter((p) => this.active.delete(p));
    if (stopped.length) await this.handler({ gained: [], lost: stopped.sort((a, b) => a - b) });
    await Promise.all(
      partitions.map(async (p) => {
        const lease = this.leases.get(p);
        if (!lease) return;
        this.leases.delete(p);
        await lease.renewing;
        if (lease.gone) return;
        // CAS on our revision: if the lease already expired and someone else took it, this fails harmlessly.
        await this.kv.delete(leaseKey(p), { previousSeq: lease.revision }).catch(() => undefined);
      }),
    );
    this.logger.log(`released partitions ${partitions.join(',')} (${why})`);
    if (!this.stopping) void this.membership.beat();
  }

  private async acquire(p: number): Promise<void> {
    const sentAt = monotonic();
    let previous: KvEntry | null = null;
    try {
      previous = await this.kv.get(leaseKey(p));
      const value: PartitionLease = { node: this.self, incarnation: INCARNATION, acquired_at: new Date().toISOString() };
      let revision: number;
      if (previous?.operation === 'PUT') {
        // Held. Only a lease left by this node's previous process (restarted after a crash) is taken
        // over at once (CAS on its revision); anyone else's is waited for until released or expired.
        // Our own incarnation's lease that we lost track of (a renewal that timed out but landed) is
        // taken back the same way.
        const holder = previous.json<PartitionLease>();
        if (holder.node !== this.self || !holder.incarnation) return;
        revision = await this.kv.update(leaseKey(p), JSON.stringify(value), previous.revision);
      } else {
        revision = await this.kv.create(leaseKey(p), JSON.stringify(value));
      }
      // Released by a previous owner (a delete marker is left): keep a gap so its last sends leave
      // every rate-limit window. An expired lease needs none: its holder fenced itself earlier.
      const gap = previous ? this.timing.handoverGapMs : 0;
      this.leases.set(p, { revision, renewedAt: sentAt, acquiredAt: value.acquired_at, activeFrom: monotonic() + gap });
    } catch (err) {
      if (!wrongLastSequence(err)) this.logger.warn(`lease ${p}: ${(err as Error).message}`);
    }
  }

  private renewAll(): void {
    for (const [p, lease] of this.leases) {
      if (lease.renewing || lease.gone) continue;
      lease.renewing = this.writes.run(() => this.renew(p, lease)).finally(() => (lease.renewing = undefined));
    }
  }

  private async renew(p: number, lease: Lease, adopt = true): Promise<void> {
    const sentAt = monotonic();
    const value: PartitionLease = { node: this.self, incarnation: INCARNATION, acquired_at: lease.acquiredAt };
    try {
      lease.revision = await this.kv.update(leaseKey(p), JSON.stringify(value), lease.revision);
      lease.renewedAt = sentAt;
    } catch (err) {
      const msg = (err as Error).message;
      if (wrongLastSequence(err)) {
        // Either an earlier renewal that timed out did land (the key still holds our incarnation:
        // adopt its revision), or the lease expired and may be someone else's: not ours any more.
        const current = await this.kv.get(leaseKey(p)).catch(() => null);
        const holder = current?.operation === 'PUT' ? current.json<PartitionLease>() : undefined;
        if (current && holder?.node === this.self && holder.incarnation === INCARNATION && adopt) {
          lease.revision = current.revision;
          return this.renew(p, lease, false); // renew now, on the adopted revision
        }
        this.logger.warn(`lease ${p} lost: ${msg}`);
        lease.gone = true;
        this.kick();
      } else {
        this.logger.warn(`lease ${p} renewal failed: ${msg}`);
      }
    }
  }
}
