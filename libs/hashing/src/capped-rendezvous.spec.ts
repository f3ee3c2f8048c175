import fc from 'fast-check';
import { balancedAssignment, balancedOwners, nodeCaps, partitionCap } from './capped-rendezvous';
import { DEFAULT_PARTITIONS_NODE_ROUTING } from './partition-of';
import { ownerOf, score } from './rendezvous';

const nodes = (n: number, prefix = 'node-') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const moved = (a: readonly unknown[], b: readonly unknown[]) => a.filter((o, i) => o !== b[i]).length;
const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
/** Seeded, so every run checks the same memberships. */
const runs = (numRuns: number) => ({ numRuns, seed: 20240611 });

/** Random memberships: 1..64 distinct node ids of the shapes operators use (uuids, host names). */
const membership = fc.uniqueArray(fc.oneof(fc.uuid(), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)), { minLength: 1, maxLength: 64 });

describe('balancedAssignment (capped rendezvous)', () => {
  it('gives every partition exactly one owner, no node more than its cap, every node listed', () => {
    fc.assert(
      fc.property(membership, fc.constantFrom(64, 256, 1024), (ids, P) => {
        const map = balancedAssignment(P, ids);
        const sorted = [...ids].sort();
        expect([...map.keys()]).toEqual(sorted);
        expect([...map.values()].flat().sort((a, b) => a - b)).toEqual(Array.from({ length: P }, (_, i) => i));
        const caps = nodeCaps(P, sorted);
        sorted.forEach((id, i) => expect(map.get(id)!.length).toBeLessThanOrEqual(caps[i]));
      }),
      runs(40),
    );
  });

  it('is a pure function of the membership set: order and duplicates do not matter', () => {
    fc.assert(
      fc.property(
        membership.chain((ids) => fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length }))),
        ([ids, shuffled]) => {
          expect(balancedOwners(256, [...shuffled, ...shuffled.slice(0, 3)])).toEqual(balancedOwners(256, ids));
        },
      ),
      runs(40),
    );
  });

  it('with P = 1024, the busiest of up to 64 nodes holds at most 1.1 x the mean', () => {
    fc.assert(
      fc.property(membership, (ids) => {
        const max = Math.max(...[...balancedAssignment(1024, ids).values()].map((ps) => ps.length));
        expect(max).toBeLessThanOrEqual(1.1 * (1024 / ids.length) + 1e-9);
      }),
      runs(40),
    );
  });

  it('keeps each partition with its rendezvous owner unless that owner is full, and a full owner keeps its highest-scored', () => {
    fc.assert(
      fc.property(membership, fc.constantFrom(256, 1024), (ids, P) => {
        const owners = balancedOwners(P, ids);
        const counts = new Map<string, number>();
        owners.forEach((o) => counts.set(o!, (counts.get(o!) ?? 0) + 1));
        const sorted = [...ids].sort();
        const caps = new Map(Array.from(nodeCaps(P, sorted), (c, i) => [sorted[i], c]));
        const lowestKept = new Map<string, number>();
        const highestSpilled = new Map<string, number>();
        for (let p = 0; p < P; p++) {
          const natural = ownerOf(p, ids)!;
          const s = score(natural, p);
          if (owners[p] === natural) lowestKept.set(natural, Math.min(lowestKept.get(natural) ?? Infinity, s));
          else {
            expect(counts.get(natural)).toBe(caps.get(natural));
            highestSpilled.set(natural, Math.max(highestSpilled.get(natural) ?? -1, s));
          }
        }
        for (const [id, s] of highestSpilled) expect(s).toBeLessThan(lowestKept.get(id)!);
      }),
      runs(20),
    );
  });

  it('on a join or a leave moves every partition of the node that changed, under 1.6 x the ideal share on average and 3 x each time', () => {
    // Measured over 3,000 random memberships of 2..64 nodes at P = 1024: mean 1.43, p99 2.46, max 2.95
    // (the bounded-load greedy this replaced: mean 1.43, p99 3.16, max 3.51). The product goal,
    // 1.2 x at every N, is not met at 1024: it is at node routing's default count (the next test).
    const P = 1024;
    const ratios: number[] = [];
    fc.assert(
      fc.property(
        membership.filter((ids) => ids.length >= 2),
        fc.nat(),
        (ids, pick) => {
          const before = balancedOwners(P, ids);
          const leaver = ids[pick % ids.length];
          const left = balancedOwners(
            P,
            ids.filter((id) => id !== leaver),
          );
          // A leave moves every partition of the leaver; the join back (the same pair) every one the newcomer takes.
          before.forEach((o, p) => o === leaver && expect(left[p]).not.toBe(leaver));
          const ratio = moved(before, left) / (P / ids.length);
          ratios.push(ratio);
          expect(ratio).toBeLessThan(3);
        },
      ),
      runs(40),
    );
    expect(sum(ratios) / ratios.length).toBeLessThan(1.6);
  });

  it(`at the default count with node routing (${DEFAULT_PARTITIONS_NODE_ROUTING}), a join or a leave of up to 64 nodes moves at most 1.2 x the ideal share, and the busiest node holds at most 1.1 x the mean`, () => {
    const P = DEFAULT_PARTITIONS_NODE_ROUTING;
    fc.assert(
      fc.property(
        membership.filter((ids) => ids.length >= 2),
        fc.nat(),
        (ids, pick) => {
          const before = balancedOwners(P, ids);
          const leaver = ids[pick % ids.length];
          const left = balancedOwners(
            P,
            ids.filter((id) => id !== leaver),
          );
          // The leave, and the join back (the same pair of memberships): the ideal is 1/N of the partitions.
          expect(moved(before, left) / (P / ids.length)).toBeLessThanOrEqual(1.2);
          const counts = new Map<string, number>();
          for (const o of before) counts.set(o!, (counts.get(o!) ?? 0) + 1);
          expect(Math.max(...counts.values()) / (P / ids.length)).toBeLessThanOrEqual(1.1 + 1e-9);
        },
      ),
      runs(24),
    );
  });

  it('moves at most 2.6 x the ideal share for the node-1..node-N sequence of npm run sim:ring (P = 1024)', () => {
    const P = 1024;
    const at = Array.from({ length: 66 }, (_, n) => (n ? balancedOwners(P, nodes(n)) : []));
    for (let n = 1; n <= 64; n++) {
      expect((moved(at[n], at[n + 1]) / P) * (n + 1)).toBeLessThanOrEqual(2.6); // join node-(n+1)
      if (n > 1) expect((moved(at[n], balancedOwners(P, nodes(n).slice(1))) / P) * n).toBeLessThanOrEqual(2.6); // node-1 leaves
    }
  });

  it('matches plain rendezvous for one node and for none', () => {
    expect(balancedAssignment(8, ['only']).get('only')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(balancedAssignment(8, []).size).toBe(0);
    expect(balancedOwners(4, [])).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('caps at floor(1.1 x P/N) but never below ceil(P/N)', () => {
    expect(partitionCap(1024, 64)).toBe(17);
    expect(partitionCap(1024, 3)).toBe(375);
    expect(partitionCap(8, 3)).toBe(3);
    expect(partitionCap(64, 64)).toBe(1);
  });

  it("staggers the nodes' own caps below partitionCap, summing to at least P", () => {
    for (const P of [64, 256, 1024]) {
      for (let n = 1; n <= 64; n++) {
        const caps = [...nodeCaps(P, nodes(n))];
        expect(sum(caps)).toBeGreaterThanOrEqual(P);
        for (const c of caps) {
          expect(c).toBeLessThanOrEqual(partitionCap(P, n));
          expect(c).toBeGreaterThanOrEqual(Math.ceil(P / n));
        }
      }
    }
    // 1.1 * 1024 / 63 = 17.88: some nodes already at 17, some still at 18 (the cap drops to 17 at N = 64).
    expect(new Set(nodeCaps(1024, nodes(62)))).toEqual(new Set([17, 18]));
  });
});
