import { assertPartitionCount } from './partition-of';
import { nodeScorer } from './rendezvous';

/** The busiest node may hold this much over the mean number of partitions (but always ceil(P/N)). */
export const LOAD_SLACK = 1.1;

/** Most partitions one node may hold among n: floor(1.1 * P/n), and never less than ceil(P/n). */
export function partitionCap(partitions: number, nodes: number): number {
  return Math.max(Math.ceil(partitions / nodes), Math.floor((LOAD_SLACK * partitions) / nodes + 1e-9));
}

/**
 * How early a node's own cap steps down ahead of {@link partitionCap}. A node at its cap sheds a
 * partition when its cap drops; with one cap for all, every full node sheds at the same N (3 x the
 * ideal move in that one join). Each node's cap is floor(1.1 P/N - STAGGER + f) for its own hashed f
 * in [0, 1), within [ceil(P/N), partitionCap], so caps step down one node at a time as N grows.
 * Lower caps mean more full nodes; 0.5 to 1 measured alike (worst 2.2-3.0 x the ideal), 0 at 2.8-3.3 x.
 */
const CAP_STAGGER = 0.75;

/** A partition index no cluster uses (partitions are < 2^32 - 1): its score is a node's own hash. */
const NODE_HASH_INDEX = 0xffffffff;

/**
 * Capped rendezvous: each partition goes to its rendezvous owner (highest score), except that a node
 * whose rendezvous share is over its cap (see CAP_STAGGER, never over {@link partitionCap}) keeps
 * only its cap highest-scored partitions. The rest (a few percent) go to the nodes with room left,
 * as a stable matching by the same scores: (spilled partition, node) pairs are taken highest score
 * first, and a pair is used while its partition has no owner and its node has room.
 *
 * Why this shape: a join moves what the newcomer takes, plus what the caps force. A full node keeps
 * its highest-scored partitions because a newcomer takes a partition with a probability that grows
 * as its owner's score falls, so it takes the spilled ones more often than their share, and taking
 * a spilled one frees no room at its natural owner. Natural partitions are never displaced by
 * spilled ones, so the re-homing only shuffles the spills. Measured (npm run sim:ring, and random
 * node ids) against the bounded-load greedy over all pairs this replaced: the same balance and
 * average movement, a lower worst single join or leave (2.5-2.9 x the ideal share, not 3.1-3.3 x),
 * in a third of the time. Neither meets 1.2 x at every N: see the README, "The delivery cluster".
 *
 * A pure function of the set of node ids (order and duplicates do not matter), so every node
 * computes the same assignment from the membership alone, without a coordinator.
 */
export function balancedAssignment(partitions: number, nodeIds: readonly string[]): Map<string, number[]> {
  assertPartitionCount(partitions);
  const ids = [...new Set(nodeIds)].sort();
  const owned = new Map<string, number[]>(ids.map((id) => [id, []]));
  if (!ids.length) return owned;
  const owner = cappedOwnerIndexes(partitions, ids);
  const lists = ids.map((id) => owned.get(id)!);
  for (let p = 0; p < partitions; p++) lists[owner[p]].push(p);
  return owned;
}

/** Owner of each partition, indexed by partition, under {@link balancedAssignment}. */
export function balancedOwners(partitions: number, nodeIds: readonly string[]): Array<string | undefined> {
  assertPartitionCount(partitions);
  const ids = [...new Set(nodeIds)].sort();
  if (!ids.length) return new Array<string | undefined>(partitions).fill(undefined);
  return Array.from(cappedOwnerIndexes(partitions, ids), (i) => ids[i]);
}

/** Each node's cap, indexed like ids (sorted, distinct): see CAP_STAGGER. Their sum is at least P. */
export function nodeCaps(partitions: number, ids: readonly string[]): Int32Array {
  const n = ids.length;
  const most = partitionCap(partitions, n),
    least = Math.ceil(partitions / n);
  const target = (LOAD_SLACK * partitions) / n + 1e-9;
  const score = nodeScorer(ids);
  return Int32Array.from(ids, (_, i) => Math.max(least, Math.min(most, Math.floor(target - CAP_STAGGER + score(i, NODE_HASH_INDEX) / 2 ** 53))));
}

/** ids sorted and distinct; returns the index into ids of each partition's owner. */
function cappedOwnerIndexes(partitions: number, ids: readonly string[]): Int32Array {
  const n = ids.length;
  const owner = new Int32Array(partitions);
  if (n === 1) return owner;
  const score = nodeScorer(ids);
  const scores = new Float64Array(partitions * n);
  const natural: number[][] = ids.map(() => []);
  for (let p = 0; p < partitions; p++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      const s = (scores[p * n + i] = score(i, p));
      if (s > scores[p * n + best]) best = i; // ties to the smaller id, as ownerOf
    }
    owner[p] = best;
    natural[best].push(p);
  }

  const caps = nodeCaps(partitions, ids);
  const load = new Int32Array(n);
  const spilled: number[] = [];
  natural.forEach((ps, i) => {
    load[i] = Math.min(ps.length, caps[i]);
    if (ps.length <= caps[i]) return;
    ps.sort((a, b) => scores[b * n + i] - scores[a * n + i] || a - b);
    for (const p of ps.slice(caps[i])) spilled.push(p);
  });
  if (!spilled.length) return owner;

  // Pairs k = p * n + i, highest score first (ties to the smaller node, then the smaller partition).
  const pairs = new Uint32Array(spilled.length * n);
  spilled.forEach((p, j) => {
    for (let i = 0; i < n; i++) pairs[j * n + i] = p * n + i;
  });
  pairs.sort((a, b) => scores[b] - scores[a] || (a % n) - (b % n) || a - b);
  const placed = new Uint8Array(partitions);
  let left = spilled.length;
  for (const k of pairs) {
    const p = (k / n) | 0,
      i = k % n;
    if (placed[p] || load[i] >= caps[i]) continue;
    owner[p] = i;
    placed[p] = 1;
    load[i]++;
    if (--left === 0) return owner;
  }
  // Unreachable: the caps sum to at least P, so a spilled partition always finds room.
  throw new Error('capped rendezvous left a partition without owner');
}
