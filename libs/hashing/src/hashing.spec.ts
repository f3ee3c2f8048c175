import { createHash, randomUUID } from 'node:crypto';
import { assignPartitions, ownerOf, partitionOf, score } from '.';

const nodes = (n: number, prefix = 'node-') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const owners = (p: number, ids: readonly string[]) => Array.from({ length: p }, (_, i) => ownerOf(i, ids));
const loads = (m: Map<string, number[]>) => [...m.values()].map((ps) => ps.length);

/** Reference: top 53 bits of splitmix64(sha256(id)[0..8] XOR p * golden), in BigInt. */
function referenceScore(nodeId: string, partition: number): number {
  const mask = (1n << 64n) - 1n;
  let z = createHash('sha256').update(nodeId).digest().readBigUInt64BE(0) ^ ((BigInt(partition) * 0x9e3779b97f4a7c15n) & mask);
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
  return Number((z ^ (z >> 31n)) >> 11n);
}

describe('partitionOf', () => {
  it('is stable across calls and pinned to sha256', () => {
    const id = '6f1c2a8e-2d7b-4c55-9a53-0f2a1b9c7d10';
    expect(partitionOf(id, 64)).toBe(partitionOf(id, 64));
    expect(partitionOf(id, 64)).toBe(createHash('sha256').update(id).digest().readUInt32BE(0) % 64);
    // Pinned values: a change here would re-route every webhook of a running cluster.
    expect(['a', 'b', 'webhook-1'].map((id) => partitionOf(id, 64))).toMatchInlineSnapshot(`
[
  18,
  22,
  20,
]
`);
  });

  it('spreads many uuids over all partitions', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[partitionOf(randomUUID(), 64)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800); // mean 1000, sd ~31
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('rejects a bad partition count', () => {
    expect(() => partitionOf('x', 0)).toThrow(RangeError);
    expect(() => partitionOf('x', 1.5)).toThrow(RangeError);
  });
});

describe('rendezvous', () => {
  it('scores match a BigInt splitmix64 reference', () => {
    for (const id of ['node-1', 'node-2', 'a-much-longer-node-id.example.internal']) {
      for (const p of [0, 1, 2, 63, 1023, 65_535, 0xffffffff]) expect(score(id, p)).toBe(referenceScore(id, p));
    }
  });

  it('is deterministic and independent of node order', () => {
    const ids = nodes(8);
    const shuffled = [ids[3], ids[7], ids[0], ids[5], ids[1], ids[6], ids[2], ids[4]];
    expect(owners(256, ids)).toEqual(owners(256, [...ids]));
    expect(owners(256, shuffled)).toEqual(owners(256, ids));
    expect(assignPartitions(256, shuffled).get('node-4')).toEqual(assignPartitions(256, ids).get('node-4'));
  });

  it('gives every partition exactly one owner and lists every node', () => {
    const ids = [...nodes(40), 'idle'];
    const map = assignPartitions(32, ids);
    expect([...map.keys()].sort()).toEqual([...ids].sort());
    expect(map.get('idle')).toBeDefined();
    const all = [...map.values()].flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 32 }, (_, i) => i));
    for (const [id, ps] of map) {
      expect(ps).toEqual([...ps].sort((a, b) => a - b));
      for (const p of ps) expect(ownerOf(p, ids)).toBe(id);
    }
  });

  it('has no owner without nodes', () => {
    expect(ownerOf(0, [])).toBeUndefined();
    expect(assignPartitions(8, []).size).toBe(0);
  });

  it('on join moves only partitions to the new node, about P/(N+1) of them', () => {
    for (const [P, N] of [
      [64, 3],
      [256, 8],
      [1024, 16],
    ]) {
      const before = owners(P, nodes(N));
      const after = owners(P, nodes(N + 1));
      const moved = before.flatMap((o, p) => (o === after[p] ? [] : [p]));
      for (const p of moved) expect(after[p]).toBe(`node-${N + 1}`);
      expect(moved.length).toBeGreaterThan((0.5 * P) / (N + 1));
      expect(moved.length).toBeLessThan((1.6 * P) / (N + 1));
    }
  });

  it("on leave moves only the leaver's partitions", () => {
    const ids = nodes(8);
    const before = owners(256, ids);
    const after = owners(
      256,
      ids.filter((id) => id !== 'node-3'),
    );
    before.forEach((o, p) => {
      if (o === 'node-3') expect(after[p]).not.toBe('node-3');
      else expect(after[p]).toBe(o);
    });
  });

  it.each([
    [64, 3],
    [256, 8],
  ])('balances P=%i over N=%i within bounds', (P, N) => {
    for (const prefix of ['node-', 'delivery-7f9c-', 'host.']) {
      const l = loads(assignPartitions(P, nodes(N, prefix)));
      expect(l.reduce((a, b) => a + b, 0)).toBe(P);
      expect(Math.max(...l)).toBeLessThanOrEqual(Math.ceil(1.5 * (P / N)));
      expect(Math.min(...l)).toBeGreaterThanOrEqual(Math.floor(0.5 * (P / N)));
    }
  });

  it('assigns 1024 partitions over 32 nodes quickly', () => {
    const ids = nodes(32, 'perf-');
    const runs = Array.from({ length: 20 }, () => {
      const t0 = process.hrtime.bigint();
      assignPartitions(1024, ids);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    });
    expect(Math.min(...runs)).toBeLessThan(10); // ~0.6 ms once warm; loose for slow CI runners
  });

  it('rejects a bad partition', () => {
    expect(() => ownerOf(-1, ['a'])).toThrow(RangeError);
    expect(() => ownerOf(2 ** 32, ['a'])).toThrow(RangeError);
    expect(() => assignPartitions(0, ['a'])).toThrow(RangeError);
  });
});
