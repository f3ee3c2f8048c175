import { Logger } from '@nestjs/common';
import { KvWatchInclude, type KV } from 'nats';
import { balancedAssignment } from '@app/hashing';
import { CLUSTER_TIMING, ClusterTiming, ConcurrencyGate, LatestEntry, NodeLease, PartitionOwner, partitionKey, SupervisedLoop, wrongLastSequence } from '@app/messaging';
import { listForLog } from '../log-lists';
import type { Membership } from './membership';
import { NodeLeaseHolder } from './node-lease';
import { OwnershipHandler, PartitionOwnership } from './partition-ownership';

/** A partition this node holds: its key in `partition-owners` names this node and the node lease it was taken under. */
interface Hold {
  revision: number;
  /** The node lease id it was taken under: it is ours only while that lease is. */
  lease: string;
  /** performance.now() from which this node may deliver the partition. */
  activeFrom: number;
}

const monotonic = () => performance.now();
/** Unsettled partitions read per reconcile pass: an outage can leave thousands, and a pass must not wait on them all. */
const UNSURE_READS_PER_PASS = 256;
/** After this long a write that got no answer can no longer be committed (JetStream elects a new leader within seconds). */
const UNSURE_GIVE_UP_MS = 60_000;
/** The same failures to take partitions are logged again at most this often. */
const TAKE_WARN_REPEAT_MS = 30_000;

/** A partition key's holder, or undefined for a value that is not one. */
function ownerOf(e: LatestEntry): PartitionOwner | undefined {
  try {
    const v = e.json<PartitionOwner>();
    return typeof v?.node === 'string' && typeof v.lease === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Partition-key writes in flight at once: a thousand at a time would all time out together on a busy server. */
const OWNER_WRITES_IN_FLIGHT = 64;

/** The KV buckets ownership lives in. */
export interface OwnershipBuckets {
  /** `node-leases`: one key per node, renewed (bucket TTL). */
  nodes: KV;
  /** `partition-owners`: one key per partition, written only when its holder changes (no TTL). */
  partitions: KV;
  /**
   * A key's latest entry as the bucket's stream leader has it (latestEntry): what a decision resting
   * on a read alone uses, since `kv.get` may be answered by a replica that lags.
   */
  latest: (bucket: 'nodes' | 'partitions', key: string) => Promise<LatestEntry | null>;
}

/**
 * Consistent-hash ownership with leases: this node wants its share of the balanced assignment
 * (capped rendezvous, libs/hashing) of the live members, and delivers a partition only while it
 * holds it under its node lease. The node lease (NodeLeaseHolder) is the only key renewed, so the
 * cost of holding partitions does not grow with their number. A partition is taken with a CAS write
 * of its key naming this node and the lease id; someone else's key is taken over only once its
 * holder's node lease has expired or carries another id. Losing a partition (membership change, the
 * node lease lost or too old to trust) first stops delivery through the handler, then deletes the
 * key (CAS on our revision, so another holder's key is never touched).
 */
export class LeasedOwnership extends PartitionOwnership {
  private readonly logger = new Logger(LeasedOwnership.name);
  /** Errors already said since takes last all succeeded, and when last said. */
  private takeWarned?: { kinds: Set<string>; at: number };
  private readonly holds = new Map<number, Hold>();
  /**
   * Partitions whose last key write here got no answer (it may land yet) or whose release failed: a
   * key left naming this node under its live lease would keep everyone else off the partition for as
   * long as the lease lives. Each with the revision that write expected and when it failed; see
   * settleUnsure().
   */
  private readonly unsure = new Map<number, { expected: number; since: number }>();
  private readonly active = new Set<number>();
  private readonly lease: NodeLeaseHolder;
  private handler: OwnershipHandler = async () => undefined;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private stopping = false;
  private timers: NodeJS.Timeout[] = [];
  private renewTimer?: NodeJS.Timeout;
  private wake?: NodeJS.Timeout;
  private assignment?: { members: readonly string[]; key: string; mine: ReadonlySet<number>; owners: Array<string | undefined> };
  private readonly writes = new ConcurrencyGate(OWNER_WRITES_IN_FLIGHT);
  private readonly kv: KV;

  constructor(
    readonly partitions: number,
    buckets: OwnershipBuckets,
    private readonly membership: Membership,
    private readonly timing: Readonly<ClusterTiming> = CLUSTER_TIMING,
  ) {
    super();
    this.kv = buckets.partitions;
    this.latest = buckets.latest;
    this.lease = new NodeLeaseHolder(
      buckets.nodes,
      (key) => buckets.latest('nodes', key),
      membership.self,
      timing,
      () => this.kick(),
    );
  }

  private readonly latest: OwnershipBuckets['latest'];

  get self(): string {
    return this.membership.self;
  }

  owned(): ReadonlySet<number> {
    return this.active;
  }

  /** Synchronous fencing check for the send path: active and held under the node lease, renewed recently enough. */
  mayDeliver(partition: number): boolean {
    return this.active.has(partition) && this.trusted(partition);
  }

  /**
   * A send in flight may go on while the partition is held under a trusted lease, also once it is
   * no longer active: lose() stops new sends at once but releases the partition only after the
   * handler has waited for the sends in flight, so they end before anyone else can send for it.
   */
  mayContinue(partition: number): boolean {
    return this.trusted(partition);
  }

  private trusted(partition: number): boolean {
    const hold = this.holds.get(partition);
    return !!hold && hold.lease === this.lease.trustedId();
  }

  /** Every held partition -> ms since the node lease it is held under was last renewed. */
  leaseAges(): Map<number, number> {
    const age = this.lease.age();
    return new Map([...this.holds.keys()].map((p) => [p, age]));
  }

  /** Partitions held (including ones still in their handover gap), for status output. */
  held(): number[] {
    return [...this.holds.keys()].sort((a, b) => a - b);
  }

  /** A released partition: try to take it at once instead of waiting for the next retry (a speed-up; the retry timer is the guarantee). */
  private readonly releaseWatch = new SupervisedLoop('partition-owners-watch', async (session) => {
    const watcher = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    session.onStop(() => watcher.stop());
    session.ready();
    for await (const e of watcher) if (e.operation !== 'PUT' && !this.holds.has(Number(e.key))) this.kick();
  });

  onChange(handler: OwnershipHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.membership.onChange(() => this.kick());
    await this.releaseWatch.start();
    this.renewTimer = setInterval(() => void this.lease.renew(), this.timing.renewMs);
    this.timers.push(setInterval(() => this.kick(), this.timing.retryMs));
    // Fencing: notice a lease that went stale (e.g. after the process was paused) within 250 ms.
    this.timers.push(setInterval(() => this.checkFences(), 250));
    this.kick();
    await this.chain;
  }

  /** Graceful leave: hand everything back, release every partition, then the node lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.wake);
    await this.releaseWatch.stop();
    await this.membership.leave();
    this.queued = false;
    await this.chain;
    // The node lease keeps being renewed until everything is handed back.
    await this.lose([...this.holds.keys()], 'shutdown');
    const released = await this.settleUnsure(new Set());
    clearInterval(this.renewTimer);
    // A partition key left behind (its delete got no answer) stays ours until the lease expires:
    // the handover gap of a successor then covers our last sends. Otherwise nothing is held under it.
    if (released) await this.lease.release();
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
    return this.currentAssignment().mine;
  }

  private currentAssignment(): NonNullable<LeasedOwnership['assignment']> {
    const members = this.membership.members(); // the same array until the membership changes
    if (this.assignment?.members === members) return this.assignment;
    const key = members.join('\n');
    if (this.assignment?.key !== key) {
      const byNode = balancedAssignment(this.partitions, members);
      const owners = new Array<string | undefined>(this.partitions);
      for (const [node, ps] of byNode) for (const p of ps) owners[p] = node;
      this.assignment = { members, key, mine: new Set(byNode.get(this.self)), owners };
    } else this.assignment.members = members;
    return this.assignment;
  }

  /** The live member the balanced assignment gives the partition to (its holder once the handover is done). */
  override assignedOwner(partition: number): string | undefined {
    return this.currentAssignment().owners[partition];
  }

  override liveMembers(): readonly string[] {
    return this.membership.members();
  }

  private checkFences(): void {
    const leaseId = this.lease.trustedId();
    for (const hold of this.holds.values()) if (hold.lease !== leaseId) return this.kick();
  }

  private async reconcile(): Promise<void> {
    if (this.stopping) return;
    const desired = this.desired();
    const leaseId = this.lease.trustedId();
    const untrusted = [...this.holds].filter(([, h]) => h.lease !== leaseId).map(([p]) => p);
    if (untrusted.length) this.logger.warn(`fenced: the node lease is lost or too old to trust; stopping partitions ${listForLog(untrusted)}`);
    const unwanted = [...this.holds.keys()].filter((p) => !desired.has(p) && !untrusted.includes(p));
    await this.lose([...untrusted, ...unwanted], 'rebalance');

    await this.settleUnsure(desired);
    const missing = [...desired].filter((p) => !this.holds.has(p));
    const takeUnder = missing.length ? await this.lease.take() : undefined;
    if (takeUnder) this.warnTakeFailures(missing, await Promise.all(missing.map((p) => this.writes.run(() => this.acquire(p, takeUnder)))));

    const t = monotonic();
    const current = this.lease.trustedId(t);
    const gained = [...this.holds].filter(([p, h]) => !this.active.has(p) && h.activeFrom <= t && h.lease === current).map(([p]) => p);
    if (gained.length) {
      for (const p of gained) this.active.add(p);
      const failed = (await this.handler({ gained: gained.sort((a, b) => a - b), lost: [] })) ?? [];
      // Keep the partition's key but not the partition: the next reconcile (within retryMs) starts it again.
      for (const p of failed) this.active.delete(p);
      void this.membership.beat();
    }
    const waiting = [...this.holds].filter(([p]) => !this.active.has(p)).map(([, h]) => h.activeFrom - monotonic());
    if (waiting.length) {
      clearTimeout(this.wake);
      this.wake = setTimeout(() => this.kick(), Math.max(10, Math.min(...waiting) + 5));
    }
  }

  /**
   * Stops delivering these partitions (handler first: no new sends, the ones in flight answered and
   * recorded while the node lease is still renewed), then deletes their keys.
   */
  private async lose(partitions: number[], why: string): Promise<void> {
    if (!partitions.length) return;
    const stopped = partitions.filter((p) => this.active.delete(p));
    if (stopped.length) await this.handler({ gained: [], lost: stopped.sort((a, b) => a - b) });
    await Promise.all(
      partitions.map(async (p) => {
        const hold = this.holds.get(p);
        if (!hold) return;
        this.holds.delete(p);
        // CAS on our revision: a key someone else took over already is left alone.
        // A delete that failed is settled later from a fresh read (its CAS may have lost to a key
        // taken over meanwhile, or to nothing: the revision came from a read that can lag).
        await this.writes.run(() => this.kv.delete(partitionKey(p), { previousSeq: hold.revision }).catch(() => this.markUnsure(p, hold.revision)));
      }),
    );
    this.logger.log(`released partitions ${listForLog(partitions)} (${why})`);
    if (!this.stopping) void this.membership.beat();
  }

  private markUnsure(p: number, expected: number): void {
    if (!this.unsure.has(p)) this.unsure.set(p, { expected, since: monotonic() });
  }

  /**
   * Settles the partitions whose last key write got no answer or whose release failed, from a read
   * of the stream leader. One still wanted stays until acquire() has settled it (held, or someone
   * else's). Of the others, a key that names this node and its lease is deleted (CAS on what was
   * read; a pending delete of ours and this one cannot both land). A key that does not is settled only
   * once its revision has moved past what the pending write expected (that write can then never
   * land), or after UNSURE_GIVE_UP_MS, by when no write proposed before can still be committed.
   * True once none is left.
   */
  private async settleUnsure(desired: ReadonlySet<number>): Promise<boolean> {
    const leaseId = this.lease.currentId();
    const now = monotonic();
    const batch = [...this.unsure].slice(0, UNSURE_READS_PER_PASS);
    await Promise.all(
      batch.map(([p, { expected, since }]) =>
        this.writes.run(async () => {
          if (this.holds.has(p) || !leaseId) return void this.unsure.delete(p); // held again, or no lease of ours for a key to name
          if (desired.has(p)) return; // acquire() reads it next
          try {
            const e = await this.latest('partitions', partitionKey(p));
            const owner = e?.operation === 'PUT' ? ownerOf(e) : undefined;
            if (e && owner?.node === this.self && owner.lease === leaseId) {
              await this.kv.delete(partitionKey(p), { previousSeq: e.revision });
              this.unsure.delete(p);
            } else if ((e?.revision ?? 0) > expected || now - since > UNSURE_GIVE_UP_MS) {
              this.unsure.delete(p);
            }
          } catch {
            // Unanswered, or changed since the read: read again on the next pass.
          }
        }),
      ),
    );
    return this.unsure.size === 0;
  }

  /**
   * One line for the partitions a pass could not take, not one per partition: while NATS does not
   * answer, every pass fails them all (by the thousand on a large cluster). Said again when a new
   * kind of error appears, else at most every TAKE_WARN_REPEAT_MS.
   */
  private warnTakeFailures(partitions: number[], errors: Array<string | undefined>): void {
    const byError = new Map<string, number[]>();
    errors.forEach((e, i) => e !== undefined && byError.set(e, [...(byError.get(e) ?? []), partitions[i]]));
    if (!byError.size) return void (this.takeWarned = undefined);
    const now = monotonic();
    const kinds = new Set([...(this.takeWarned?.kinds ?? []), ...byError.keys()]);
    if (this.takeWarned && kinds.size === this.takeWarned.kinds.size && now - this.takeWarned.at < TAKE_WARN_REPEAT_MS) return;
    this.takeWarned = { kinds, at: now };
    this.logger.warn(`could not take partitions ${[...byError].map(([e, ps]) => `${listForLog(ps)}: ${e}`).join('; ')}`);
  }

  /** Takes a partition under the node lease `leaseId` unless its key names a holder whose node lease is still live; the error, if it could not tell. */
  private async acquire(p: number, leaseId: string): Promise<string | undefined> {
    try {
      const previous = await this.latest('partitions', partitionKey(p));
      const value: PartitionOwner = { node: this.self, lease: leaseId, acquired_at: new Date().toISOString() };
      // Keep a gap after a previous holder, so its last sends leave every rate-limit window; none
      // after one whose node lease expired: it fenced itself well before.
      let gap = previous ? this.timing.handoverGapMs : 0;
      let revision: number;
      const holder = previous?.operation === 'PUT' ? ownerOf(previous) : undefined;
      if (holder && !(holder.node === this.self && holder.lease === leaseId)) {
        const holderLease = await this.latest('nodes', holder.node);
        if (holderLease?.operation === 'PUT' && holderLease.json<NodeLease>().lease === holder.lease) {
          // Someone else's, live: a write of ours can no longer land once the key has moved past what it expected.
          if (previous!.revision > (this.unsure.get(p)?.expected ?? Infinity)) this.unsure.delete(p);
          return;
        }
        if (!holderLease) gap = 0;
      }
      // Written, never adopted from the read alone: a write of ours still pending (a delete that got
      // no answer) could land after the read. The CAS settles it: only one of the two can land.
      const expected = previous?.revision ?? 0;
      try {
        // Over a delete marker too: nats.js's create would look it up again by a direct get.
        revision = previous ? await this.kv.update(partitionKey(p), JSON.stringify(value), previous.revision) : await this.kv.create(partitionKey(p), JSON.stringify(value));
      } catch (err) {
        if (!wrongLastSequence(err)) this.markUnsure(p, expected); // it may land yet
        throw err;
      }
      this.unsure.delete(p);
      this.holds.set(p, { revision, lease: leaseId, activeFrom: monotonic() + gap });
    } catch (err) {
      if (!wrongLastSequence(err)) return (err as Error).message;
    }
    return undefined;
  }
}
