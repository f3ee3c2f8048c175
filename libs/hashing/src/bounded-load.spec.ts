import fc from 'fast-check';
import { balancedAssignment, balancedOwners, partitionCap } from './bounded-load';

const nodes = (n: number, prefix = 'node-') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const moved = (a: readonly unknown[], b: readonly unknown[]) => a.filter((o, i) => o !== b[i]).length;

/** Random memberships: 1..64 distinct node ids of the shapes operators use (uuids, host names). */
const membership = fc.uniqueArray(fc.oneof(fc.uuid(), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)), { minLength: 1, maxLength: 64 });

describe('balancedAssignment (bounded loads over rendezvous ranks)', () => {
  it('gives every partition exactly one owner, no node more than the cap, every node listed', () => {
    fc.assert(
      fc.property(membership, fc.constantFrom(64, 256, 1024), (ids, P) => {
        const map = balancedAssignment(P, ids);
        expect([...map.keys()].sort()).toEqual([...ids].sort());
        const all = [...map.values()].flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: P }, (_, i) => i));
        for (const ps of map.values()) expect(ps.length).toBeLessThanOrEqual(partitionCap(P, ids.length));
      }),
      { numRuns: 40 },
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
      { numRuns: 40 },
    );
  });

  it('with P = 1024, the busiest of up to 64 nodes holds at most 1.1 x the mean', () => {
    fc.assert(
      fc.property(membership, (ids) => {
        const max = Math.max(...[...balancedAssignment(1024, ids).values()].map((ps) => ps.length));
        expect(max).toBeLessThanOrEqual(1.1 * (1024 / ids.length) + 1e-9);
      }),
      { numRuns: 40 },
    );
  });

  it('on a join or a leave moves on average close to the ideal share, and never more than 3.2 x it', () => {
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
          // A leave must move every partition of the leaver; a join (the reverse) every one the newcomer takes.
          before.forEach((o, p) => o === leaver && expect(left[p]).not.toBe(leaver));
          const ratio = moved(before, left) / (P / ids.length);
          ratios.push(ratio);
          expect(ratio).toBeLessThanOrEqual(3.2);
        },
      ),
      { numRuns: 40 },
    );
    expect(ratios.reduce((a, b) => a + b, 0) / ratios.length).toBeLessThan(1.6);
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

  it('holds 64 nodes x 1024 partitions within 1.1 x the mean for each N = 1..64', () => {
    for (const n of [1, 2, 7, 13, 31, 47, 63, 64]) {
      const loads = [...balancedAssignment(1024, nodes(n, 'delivery-')).values()].map((ps) => ps.length);
      expect(Math.max(...loads)).toBeLessThanOrEqual(1.1 * (1024 / n));
    }
  });
});
