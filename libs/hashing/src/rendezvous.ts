import { createHash } from 'node:crypto';
import { assertPartitionCount } from './partition-of';

/**
 * Rendezvous (highest-random-weight) hashing: partition p belongs to the node with the highest
 * score(node, p). A join only takes partitions for the new node; a leave only frees the leaver's.
 *
 * score = top 53 bits of splitmix64(key(node) XOR p * golden), where key(node) is the first 8 bytes
 * of sha256(node id). 64-bit values are handled as uint32 halves: BigInt would be far slower.
 */
interface NodeKey {
  readonly id: string;
  readonly hi: number;
  readonly lo: number;
}

// A module-level binding: a global lookup of `Math` per call is slow inside vm contexts (jest).
const imul = Math.imul;
const GOLDEN_HI = 0x9e3779b9,
  GOLDEN_LO = 0x7f4a7c15;
const M1_HI = 0xbf58476d,
  M1_LO = 0x1ce4e5b9;
const M2_HI = 0x94d049bb,
  M2_LO = 0x133111eb;

/** High 32 bits of the 64-bit product of two uint32. */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff,
    a1 = a >>> 16,
    b0 = b & 0xffff,
    b1 = b >>> 16;
  const mid = a1 * b0 + a0 * b1 + ((a0 * b0) >>> 16); // < 2^34, exact in a double
  return (a1 * b1 + ((mid / 0x10000) | 0)) >>> 0;
}

/** High 32 bits of the low 64 bits of (ah:al) * (bh:bl); the low half is imul(al, bl). */
function mulHi64(ah: number, al: number, bh: number, bl: number): number {
  return (mulHi32(al >>> 0, bl >>> 0) + imul(ah, bl) + imul(al, bh)) >>> 0;
}

/** splitmix64 finalizer on (hi:lo), returning its top 53 bits as a non-negative integer. */
function mix53(hi: number, lo: number): number {
  lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
  hi = (hi ^ (hi >>> 30)) >>> 0;
  [hi, lo] = [mulHi64(hi, lo, M1_HI, M1_LO), imul(lo, M1_LO) >>> 0];
  lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
  hi = (hi ^ (hi >>> 27)) >>> 0;
  [hi, lo] = [mulHi64(hi, lo, M2_HI, M2_LO), imul(lo, M2_LO) >>> 0];
  lo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0;
  hi = (hi ^ (hi >>> 31)) >>> 0;
  return hi * 2 ** 21 + (lo >>> 11);
}

// Node ids are few and long-lived; the bound only guards against unbounded churn of ids.
const keyCache = new Map<string, NodeKey>();

function nodeKey(id: string): NodeKey {
  let key = keyCache.get(id);
  if (!key) {
    const digest = createHash('sha256').update(id, 'utf8').digest();
    key = { id, hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) };
    if (keyCache.size >= 4096) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

function assertPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > 0xffffffff) {
    throw new RangeError(`partition must be an integer in 0..2^32-1, got ${partition}`);
  }
}

function scoreKey(key: NodeKey, partition: number): number {
  return mix53(key.hi ^ mulHi64(0, partition, GOLDEN_HI, GOLDEN_LO), key.lo ^ imul(partition, GOLDEN_LO));
}

function pick(partition: number, keys: readonly NodeKey[]): string | undefined {
  const pHi = mulHi64(0, partition, GOLDEN_HI, GOLDEN_LO);
  const pLo = imul(partition, GOLDEN_LO);
  let best: NodeKey | undefined;
  let bestScore = -1;
  for (const key of keys) {
    const s = mix53(key.hi ^ pHi, key.lo ^ pLo);
    // Ties (practically never) go to the smaller id, so the result never depends on input order.
    if (s > bestScore || (s === bestScore && best !== undefined && key.id < best.id)) {
      best = key;
      bestScore = s;
    }
  }
  return best?.id;
}

/** Rendezvous weight of a node for a partition, an integer in [0, 2^53). */
export function score(nodeId: string, partition: number): number {
  assertPartition(partition);
  return scoreKey(nodeKey(nodeId), partition);
}

/** Owner of a partition among the live nodes, or undefined when there are none. */
export function ownerOf(partition: number, nodeIds: readonly string[]): string | undefined {
  assertPartition(partition);
  return pick(partition, nodeIds.map(nodeKey));
}

/** Node id -> its partitions in ascending order; every given node id is present, possibly with none. */
export function assignPartitions(partitions: number, nodeIds: readonly string[]): Map<string, number[]> {
  assertPartitionCount(partitions);
  const keys = nodeIds.map(nodeKey);
  const owned = new Map<string, number[]>(nodeIds.map((id) => [id, []]));
  for (let p = 0; p < partitions; p++) {
    const owner = pick(p, keys);
    if (owner !== undefined) owned.get(owner)?.push(p);
  }
  return owned;
}

/** score(nodeIds[i], p) as a function of (i, p), with the node keys looked up once. */
export function nodeScorer(nodeIds: readonly string[]): (i: number, partition: number) => number {
  const keys = nodeIds.map(nodeKey);
  return (i, partition) => scoreKey(keys[i], partition);
}
