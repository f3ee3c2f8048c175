import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { KV } from 'nats';
import { ClusterTiming, LatestEntry, NodeLease, wrongLastSequence } from '@app/messaging';

const monotonic = () => performance.now();
const INCARNATION = randomUUID();

interface Held {
  id: string;
  revision: number;
  value: string;
}

/**
 * This node's lease in KV `node-leases`: one key, renewed with CAS updates every renewMs, whatever
 * the number of partitions held under it. A renewal that lands proves the key never expired (an
 * expired key has no revision to match), so nobody can have taken a partition held under it. One
 * that finds the key gone or rewritten ends the lease: `onLost` runs, and the next `take()` creates
 * a new one with a new id, under which every partition must be taken again. So a key that carries
 * another id than a partition was taken under means that partition's holder stopped trusting it.
 */
export class NodeLeaseHolder {
  private readonly logger = new Logger(NodeLeaseHolder.name);
  private held?: Held;
  /** performance.now() when the last successful write was sent (the server's clock starts later). */
  private renewedAt = monotonic();
  private renewing?: Promise<void>;
  private waitingSaid = false;

  constructor(
    private readonly kv: KV,
    /** The key's latest entry from the stream leader (see latestEntry): a replica's may be stale. */
    private readonly latest: (key: string) => Promise<LatestEntry | null>,
    private readonly self: string,
    private readonly timing: Readonly<ClusterTiming>,
    private readonly onLost: () => void,
  ) {}

  /** The id of the lease held now, if it was renewed recently enough to send under. */
  trustedId(now = monotonic()): string | undefined {
    return this.held && now - this.renewedAt <= this.timing.leaseTtlMs - this.timing.fenceMarginMs ? this.held.id : undefined;
  }

  /** Since the last successful write (also after the lease was lost). */
  age(now = monotonic()): number {
    return now - this.renewedAt;
  }

  /**
   * The trusted lease id, creating a lease when none is held. Undefined while a held lease is
   * untrusted (renewals failing): a renewal that lands makes it trusted again, a refused one ends it.
   */
  async take(): Promise<string | undefined> {
    if (this.held) return this.trustedId();
    const id = randomUUID();
    const value = JSON.stringify({ node: this.self, lease: id, incarnation: INCARNATION, since: new Date().toISOString() } satisfies NodeLease);
    const sentAt = monotonic();
    try {
      const existing = await this.latest(this.self);
      let revision: number;
      if (existing?.operation === 'PUT') {
        // Another process with this node id (a predecessor that crashed, or one still running
        // somewhere) may trust its lease for a while yet: replacing it now would let both send.
        // Wait for it to expire or be deleted. Only a lease of this process, given up already, is
        // replaced at once.
        if (existing.json<NodeLease>().incarnation !== INCARNATION) {
          if (!this.waitingSaid)
            this.logger.warn(
              `node lease: another process with node id ${this.self} holds it; waiting until it expires (at most ${this.timing.leaseTtlMs / 1000} s after its last renewal)`,
            );
          this.waitingSaid = true;
          return undefined;
        }
        revision = await this.kv.update(this.self, value, existing.revision);
      } else {
        revision = await this.kv.create(this.self, value);
      }
      this.held = { id, revision, value };
      this.renewedAt = sentAt;
      this.waitingSaid = false;
      return id;
    } catch (err) {
      if (!wrongLastSequence(err)) this.logger.warn(`node lease: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** The id of the lease held now, trusted or not. */
  currentId(): string | undefined {
    return this.held?.id;
  }

  renew(): Promise<void> {
    if (!this.held || this.renewing) return this.renewing ?? Promise.resolve();
    this.renewing = this.write(this.held).finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async write(held: Held, adopt = true): Promise<void> {
    const sentAt = monotonic();
    try {
      held.revision = await this.kv.update(this.self, held.value, held.revision);
      this.renewedAt = sentAt;
    } catch (err) {
      if (!wrongLastSequence(err)) {
        this.logger.warn(`node lease renewal failed: ${(err as Error).message}`);
        return;
      }
      // Either an earlier renewal that timed out did land (the key still carries our id: adopt its
      // revision and renew on it), or the key expired or was replaced: the lease is over.
      const current = await this.latest(this.self).catch(() => null);
      if (adopt && current?.operation === 'PUT' && current.json<NodeLease>().lease === held.id) {
        held.revision = current.revision;
        return this.write(held, false);
      }
      if (this.held !== held) return;
      this.logger.warn(`node lease lost: ${(err as Error).message}`);
      this.held = undefined;
      this.onLost();
    }
  }

  /** Graceful leave: delete the key (CAS), so nothing is left to expire. Only once nothing is held under it. */
  async release(): Promise<void> {
    await this.renewing;
    const held = this.held;
    this.held = undefined;
    if (held) await this.kv.delete(this.self, { previousSeq: held.revision }).catch(() => undefined);
  }
}
