import type { KV, KvEntry } from 'nats';
import { balancedOwners } from '@app/hashing';
import { CLUSTER_TIMING } from '@app/messaging';
import { LeasedOwnership } from './leased-ownership';
import type { Membership } from './membership';
import type { OwnershipChange } from './partition-ownership';

/** Just enough of a NATS KV bucket: revisions, CAS create/update/delete, an updates-only watch. */
/** What NATS answers to a KV write against a stale revision: a JetStream API error with code 10071. */
const wrongLastSequence = (detail = '') =>
  Object.assign(new Error(`wrong last sequence${detail}`), { api_error: { code: 400, err_code: 10071, description: 'wrong last sequence' } });

class FakeKv {
  private seq = 0;
  readonly entries = new Map<string, { value: string; revision: number; operation: 'PUT' | 'DEL' }>();
  private readonly watchers = new Set<(e: KvEntry) => void>();

  private entry(key: string): KvEntry | null {
    const e = this.entries.get(key);
    if (!e) return null;
    return {
      bucket: 'fake',
      key,
      value: new TextEncoder().encode(e.value),
      created: new Date(),
      revision: e.revision,
      operation: e.operation,
      length: e.value.length,
      json: () => JSON.parse(e.value),
      string: () => e.value,
    };
  }

  private write(key: string, value: string, operation: 'PUT' | 'DEL'): number {
    this.entries.set(key, { value, revision: ++this.seq, operation });
    const e = this.entry(key)!;
    for (const w of this.watchers) w(e);
    return this.seq;
  }

  async get(key: string) {
    return this.entry(key);
  }
  async create(key: string, value: string) {
    if (this.entries.get(key)?.operation === 'PUT') throw wrongLastSequence(`: ${this.entries.get(key)!.revision}`);
    return this.write(key, value, 'PUT');
  }
  /** The next update of this key is applied but its answer is lost (a timeout on a reconnect). */
  lostAnswer?: string;
  async update(key: string, value: string, revision: number) {
    if (this.entries.get(key)?.revision !== revision) throw wrongLastSequence();
    const rev = this.write(key, value, 'PUT');
    if (this.lostAnswer === key) {
      this.lostAnswer = undefined;
      throw new Error('TIMEOUT');
    }
    return rev;
  }
  async delete(key: string, opts?: { previousSeq?: number }) {
    if (opts?.previousSeq !== undefined && this.entries.get(key)?.revision !== opts.previousSeq) throw wrongLastSequence();
    this.write(key, '', 'DEL');
  }
  /** Lets a lease expire as the bucket TTL would (no watch event). */
  expire(key: string) {
    this.entries.delete(key);
  }
  holder(key: string): string | undefined {
    const e = this.entries.get(key);
    return e?.operation === 'PUT' ? JSON.parse(e.value).node : undefined;
  }
  async watch() {
    const queue: KvEntry[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    const push = (e: KvEntry) => (queue.push(e), wake?.());
    this.watchers.add(push);
    const watchers = this.watchers;
    return {
      stop() {
        stopped = true;
        watchers.delete(push);
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        while (!stopped) {
          if (queue.length) yield queue.shift()!;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }
}

class FakeMembership {
  private readonly listeners: Array<() => void> = [];
  constructor(
    readonly self: string,
    private view: string[],
  ) {}
  members = () => this.view;
  onChange = (fn: () => void) => void this.listeners.push(fn);
  set(view: string[]) {
    this.view = [...view].sort();
    for (const fn of this.listeners) fn();
  }
  leave = async () => undefined;
  stop = () => undefined;
  beat = async () => undefined;
}

const timing = { ...CLUSTER_TIMING, renewMs: 50, retryMs: 30, leaseTtlMs: 600, fenceMarginMs: 200, handoverGapMs: 40 };
const P = 16;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function node(kv: FakeKv, id: string, view: string[], t = timing) {
  const membership = new FakeMembership(id, view);
  const ownership = new LeasedOwnership(P, kv as unknown as KV, membership as unknown as Membership, t);
  const changes: OwnershipChange[] = [];
  /** Who held each lost partition's lease while the handler ran (the handler runs before release). */
  const holdersAtLoss: Array<string | undefined> = [];
  ownership.onChange(async (c) => {
    for (const p of c.lost) holdersAtLoss.push(kv.holder(String(p)));
    changes.push(c);
  });
  return { membership, ownership, changes, holdersAtLoss };
}

describe('LeasedOwnership', () => {
  const running: LeasedOwnership[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((o) => o.stop()));
  });

  it('a node alone takes every partition at start', async () => {
    const kv = new FakeKv();
    const a = node(kv, 'a', ['a']);
    running.push(a.ownership);
    await a.ownership.start();
    expect([...a.ownership.owned()].sort((x, y) => x - y)).toEqual(range(P));
    expect(range(P).every((p) => a.ownership.mayDeliver(p) && kv.holder(String(p)) === 'a')).toBe(true);
  });

  it('on a join hands over exactly the partitions the balanced assignment gives the newcomer, stopping before releasing', async () => {
    const kv = new FakeKv();
    const a = node(kv, 'a', ['a']);
    running.push(a.ownership);
    await a.ownership.start();
    const b = node(kv, 'b', ['a', 'b']);
    running.push(b.ownership);
    await b.ownership.start();
    a.membership.set(['a', 'b']);
    const wantB = range(P).filter((p) => balancedOwners(P, ['a', 'b'])[p] === 'b');
    await until(() => b.ownership.owned().size === wantB.length);
    expect([...b.ownership.owned()].sort((x, y) => x - y)).toEqual(wantB);
    expect([...a.ownership.owned()].sort((x, y) => x - y)).toEqual(range(P).filter((p) => !wantB.includes(p)));
    expect(a.changes.flatMap((c) => c.lost).sort((x, y) => x - y)).toEqual(wantB);
    expect(a.holdersAtLoss.every((h) => h === 'a')).toBe(true);
    for (const p of range(P)) expect(a.ownership.mayDeliver(p) !== b.ownership.mayDeliver(p)).toBe(true);
  });

  it('fences itself when its lease cannot be renewed in time, and a renewal that finds another holder loses it', async () => {
    const kv = new FakeKv();
    // No renewals at all: the leases age past TTL - margin.
    const a = node(kv, 'a', ['a'], { ...timing, renewMs: 60_000 });
    running.push(a.ownership);
    await a.ownership.start();
    expect(a.ownership.mayDeliver(3)).toBe(true);
    // The stale lease cuts a send in flight too (the partition may leave the active set a moment
    // before its own lease goes stale: new sends stop first).
    await until(() => !a.ownership.mayContinue(3), 5000); // renewals are 60 s apart: it must trip long before
    expect(a.ownership.mayDeliver(3)).toBe(false);
    await until(() => a.changes.some((c) => c.lost.includes(3)));

    const kv2 = new FakeKv();
    const c = node(kv2, 'c', ['c']);
    running.push(c.ownership);
    await c.ownership.start();
    // Its lease expires and someone else takes it: the next renewal fails and the partition is lost.
    kv2.expire('5');
    await kv2.create('5', JSON.stringify({ node: 'intruder' }));
    await until(() => !c.ownership.owned().has(5));
    expect(c.ownership.mayDeliver(5)).toBe(false);
    expect(kv2.holder('5')).toBe('intruder');
  });

  it("a restarted node (same id) takes over its crashed predecessor's leases at once, never another node's", async () => {
    const kv = new FakeKv();
    await kv.create('0', JSON.stringify({ node: 'a', incarnation: 'crashed-process', acquired_at: new Date().toISOString() }));
    await kv.create('1', JSON.stringify({ node: 'z', incarnation: 'other', acquired_at: new Date().toISOString() }));
    const a = node(kv, 'a', ['a']);
    running.push(a.ownership);
    await a.ownership.start();
    await until(() => a.ownership.owned().has(0));
    expect(a.ownership.owned().has(1)).toBe(false);
    expect(kv.holder('1')).toBe('z');
  });

  it('a partition whose start failed keeps its lease and is started again, not left held but idle', async () => {
    const kv = new FakeKv();
    const membership = new FakeMembership('a', ['a']);
    const ownership = new LeasedOwnership(P, kv as unknown as KV, membership as unknown as Membership, timing);
    running.push(ownership);
    let failOnce = true;
    const started = new Set<number>();
    ownership.onChange(async ({ gained, lost }) => {
      for (const p of lost) started.delete(p);
      const failed: number[] = [];
      for (const p of gained) {
        if (p === 1 && failOnce) {
          failOnce = false;
          failed.push(p);
        } else started.add(p);
      }
      return failed;
    });
    await ownership.start();
    expect(ownership.owned().has(1)).toBe(false);
    expect(ownership.mayDeliver(1)).toBe(false);
    expect(kv.holder('1')).toBe('a');
    await until(() => started.has(1) && ownership.owned().has(1));
    expect([...started].sort((x, y) => x - y)).toEqual(range(P));
  });

  it('a renewal whose answer was lost but which landed keeps the lease', async () => {
    const kv = new FakeKv();
    const a = node(kv, 'a', ['a']);
    running.push(a.ownership);
    await a.ownership.start();
    kv.lostAnswer = '7';
    await until(() => kv.lostAnswer === undefined); // the renewal landed, its answer did not
    const revision = () => kv.entries.get('7')!.revision;
    const landed = revision();
    await until(() => revision() > landed); // a later renewal adopted the revision and went through
    expect(a.ownership.owned().has(7)).toBe(true);
    expect(a.changes.some((c) => c.lost.includes(7))).toBe(false);
  });

  // A send cut while its partition is handed back may have been accepted by the consumer already; it
  // would be recorded as failed and sent again by the next owner. So only new sends stop at once.
  it.each(['a join', 'a graceful stop'])('on %s, sends in flight may go on under the still renewed lease until the handler returns; new ones may not start', async (how) => {
    const kv = new FakeKv();
    const membership = new FakeMembership('a', ['a']);
    const ownership = new LeasedOwnership(P, kv as unknown as KV, membership as unknown as Membership, timing);
    running.push(ownership);
    const p = balancedOwners(P, ['a', 'b']).indexOf('b');
    const seen: Array<{ start: boolean; go: boolean; holder?: string }> = [];
    ownership.onChange(async ({ lost }) => {
      if (!lost.includes(p)) return;
      seen.push({ start: ownership.mayDeliver(p), go: ownership.mayContinue(p), holder: kv.holder(String(p)) });
      // Held for more renewals than an unrenewed lease would stay trusted (as a slow send would be).
      const revision = kv.entries.get(String(p))!.revision;
      const renewals = Math.ceil((timing.leaseTtlMs - timing.fenceMarginMs) / timing.renewMs) + 1;
      await until(() => kv.entries.get(String(p))!.revision >= revision + renewals);
      seen.push({ start: ownership.mayDeliver(p), go: ownership.mayContinue(p), holder: kv.holder(String(p)) });
    });
    await ownership.start();
    expect(ownership.mayContinue(p)).toBe(true);
    if (how === 'a join') membership.set(['a', 'b']);
    else await ownership.stop();
    await until(() => kv.holder(String(p)) === undefined);
    expect(seen).toEqual([
      { start: false, go: true, holder: 'a' },
      { start: false, go: true, holder: 'a' },
    ]);
    expect(ownership.mayContinue(p)).toBe(false); // released: nothing of it may go on
  });

  it('graceful stop hands every partition back and deletes its leases', async () => {
    const kv = new FakeKv();
    const a = node(kv, 'a', ['a']);
    await a.ownership.start();
    await a.ownership.stop();
    expect(a.ownership.owned().size).toBe(0);
    expect(a.changes[a.changes.length - 1].lost).toHaveLength(P);
    expect(range(P).every((p) => kv.holder(String(p)) === undefined)).toBe(true);
  });
});
