import { assertPartitionCount } from './partition-of';
import { nodeScorer } from './rendezvous';

/** The busiest node may hold this much over the mean number of partitions (but always ceil(P/N)). */
export const LOAD_SLACK = 1.1;

/** Most partitions one node may hold among n: floor(1.1 * P/n), and never less than ceil(P/n). */
export function partitionCap(partitions: number, nodes: number): number {
  return Math.max(Math.ceil(partitions / nodes), Math.floor((LOAD_SLACK * partitions) / nodes + 1e-9));
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, 2018) over rendezvous
 * ranks. The (node, partition) pairs are taken in one fixed order, highest rendezvous score first,
 * and a pair is used when its partition has no owner yet and its node holds fewer than
 * {@link partitionCap} partitions: the stable matching of partitions to capped nodes when both sides
 * rank by the same score. Each partition so goes to its highest-ranked node with room; most go to
 * their plain rendezvous owner, and a join or leave mostly moves partitions to or from the node
 * that changed.
 *
 * A pure function of the set of node ids (order and duplicates do not matter), so every node
 * computes the same assignment from the membership alone, without a coordinator.
 */
export function balancedAssignment(partitions: number, nodeIds: readonly string[]): Map<string, number[]> {
  assertPartitionCount(partitions);
  const ids = [...new Set(nodeIds)].sort();
  const owned = new Map<string, number[]>(ids.map((id) => [id, []]));
  const n = ids.length;
  if (n === 0) return owned;
  const owner = balancedOwnerIndexes(partitions, ids);
  const lists = ids.map((id) => owned.get(id)!);
  for (let p = 0; p < partitions; p++) lists[owner[p]].push(p);
  return owned;
}

/** Owner of each partition, indexed by partition, under {@link balancedAssignment}. */
export function balancedOwners(partitions: number, nodeIds: readonly string[]): Array<string | undefined> {
  assertPartitionCount(partitions);
  const ids = [...new Set(nodeIds)].sort();
  if (!ids.length) return new Array<string | undefined>(partitions).fill(undefined);
  return Array.from(balancedOwnerIndexes(partitions, ids), (i) => ids[i]);
}

/** ids sorted and distinct; returns the index into ids of each partition's owner. */
function balancedOwnerIndexes(partitions: number, ids: readonly string[]): Int32Array {
  const n = ids.length;
  if (n === 1) return new Int32Array(partitions);
  const score = nodeScorer(ids);
  const scores = new Float64Array(partitions * n);
  for (let p = 0; p < partitions; p++) for (let i = 0; i < n; i++) scores[p * n + i] = score(i, p);
  // Only a partition's first few choices are normally reached, so the greedy runs over those pairs
  // first; if a partition finds all of them full, it runs again with more (the result is the same
  // as over all pairs: the pairs left out come after every pair of their partition that was kept).
  for (let k = Math.min(n, 8); ; k = Math.min(n, k * 4)) {
    const owner = greedy(partitions, n, scores, k);
    if (owner || k === n) return owner ?? impossible();
  }
}

function impossible(): never {
  throw new Error('bounded-load assignment left a partition without owner (N * cap >= P makes this impossible)');
}

/**
 * Pairs k = p * n + i in descending score order (ties to the smaller node index, then the smaller
 * partition: a total order that does not depend on the input order), restricted to each partition's
 * top `depth` nodes. Returns undefined when some partition got no owner among them.
 */
function greedy(partitions: number, n: number, scores: Float64Array, depth: number): Int32Array | undefined {
  const cap = partitionCap(partitions, n);
  const byScore = (a: number, b: number) => scores[b] - scores[a] || (a % n) - (b % n) || a - b;
  const pairs = new Uint32Array(partitions * depth);
  const row = new Uint32Array(n);
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < n; i++) row[i] = p * n + i;
    if (depth < n) row.sort(byScore);
    pairs.set(row.subarray(0, depth), p * depth);
  }
  pairs.sort(byScore);
  const owner = new Int32Array(partitions).fill(-1);
  const load = new Int32Array(n);
  let left = partitions;
  for (const k of pairs) {
    const p = (k / n) | 0,
      i = k % n;
    if (owner[p] >= 0 || load[i] >= cap) continue;
    owner[p] = i;
    load[i]++;
    if (--left === 0) return owner;
  }
  return undefined;
}
