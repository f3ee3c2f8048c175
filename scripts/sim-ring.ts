/**
 * Partition-ownership simulation for N = 1..64 nodes: the busiest node against the mean (partitions,
 * and a skewed webhook load), and the share of partitions moved on a join or a leave, for plain
 * rendezvous hashing ("before") and capped rendezvous ("after", what nodes use), over node ids
 * node-1..node-N and over seeded sets of random UUIDs; then the time to compute one assignment.
 * Usage: npm run sim:ring -- [--partitions 16384] [--max-nodes 64] [--random-sets 3]
 */
import { balancedOwners, DEFAULT_PARTITIONS_NODE_ROUTING, ownerOf, partitionOf } from '../libs/hashing/src';
import { parseArgs } from './cli-args';

type Owners = Array<string | undefined>;
type Scheme = (partitions: number, ids: readonly string[]) => Owners;

const rendezvous: Scheme = (p, ids) => Array.from({ length: p }, (_, i) => ownerOf(i, ids));
const capped: Scheme = balancedOwners;

const nodes = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);
const movedShare = (a: Owners, b: Owners) => a.filter((o, i) => o !== b[i]).length / a.length;

/** Deterministic pseudo-random numbers (mulberry32), so the table is the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A skewed load: 5,000 accounts with Zipf(1) sizes (the largest has about 5,500 webhooks, most
 * have a handful; 50,000 webhooks in all), each webhook sending a Pareto(2) rate (mean 2, one in
 * 2,500 at its 100/s rate limit). Returns the load of each partition.
 */
function skewedPartitionLoad(partitions: number): number[] {
  const rnd = random(42);
  const accounts = 5000,
    webhooks = 50_000;
  const h = Array.from({ length: accounts }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
  const load = new Array<number>(partitions).fill(0);
  let made = 0;
  for (let a = 0; a < accounts && made < webhooks; a++) {
    const size = Math.max(1, Math.round(webhooks / h / (a + 1)));
    for (let w = 0; w < size && made < webhooks; w++, made++) {
      const rate = Math.min(100, Math.pow(1 - rnd(), -1 / 2));
      load[partitionOf(`acct-${a}/webhook-${w}`, partitions)] += rate;
    }
  }
  return load;
}

/** A version-4 UUID from seeded random numbers. */
function uuid(rnd: () => number): string {
  const hex = (digits: number) => Array.from({ length: digits }, () => Math.floor(rnd() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(rnd() * 4)]}${hex(3)}-${hex(12)}`;
}

interface Worst {
  maxMean: number;
  loadMaxMean: number;
  join: number;
  leave: number;
}

/**
 * For N = 1..maxNodes over the first N ids of pool: balance, a join (adds pool[N]) and a leave
 * (removes pool[leaver(N)]). Returns the worst of each; rows, when given, gets one table row per N.
 */
function measure(scheme: Scheme, P: number, pool: readonly string[], maxNodes: number, partitionLoad: number[], leaver: (n: number) => number, rows?: string[][]): Worst {
  const worst: Worst = { maxMean: 0, loadMaxMean: 0, join: 0, leave: 0 };
  const totalLoad = partitionLoad.reduce((a, b) => a + b, 0);
  let next = scheme(P, pool.slice(0, 1));
  for (let n = 1; n <= maxNodes; n++) {
    const ids = pool.slice(0, n);
    const current = next;
    const counts = new Map<string, number>(ids.map((id) => [id, 0]));
    const loads = new Map<string, number>(ids.map((id) => [id, 0]));
    current.forEach((o, p) => {
      counts.set(o!, counts.get(o!)! + 1);
      loads.set(o!, loads.get(o!)! + partitionLoad[p]);
    });
    const max = Math.max(...counts.values());
    const loadMaxMean = Math.max(...loads.values()) / (totalLoad / n);
    next = scheme(P, pool.slice(0, n + 1));
    const joinMoved = movedShare(current, next);
    const k = leaver(n);
    const leaveMoved = n > 1 ? movedShare(current, scheme(P, ids.slice(0, k).concat(ids.slice(k + 1)))) : NaN;
    worst.maxMean = Math.max(worst.maxMean, max / (P / n));
    worst.loadMaxMean = Math.max(worst.loadMaxMean, loadMaxMean);
    worst.join = Math.max(worst.join, joinMoved * (n + 1));
    if (n > 1) worst.leave = Math.max(worst.leave, leaveMoved * n);
    rows?.push([
      String(n),
      String(max),
      (P / n).toFixed(2),
      (max / (P / n)).toFixed(2),
      loadMaxMean.toFixed(2),
      joinMoved.toFixed(3),
      (joinMoved * (n + 1)).toFixed(2),
      n > 1 ? leaveMoved.toFixed(3) : '-',
      n > 1 ? (leaveMoved * n).toFixed(2) : '-',
    ]);
  }
  return worst;
}

const worstLine = (w: Worst) =>
  `max/mean ${w.maxMean.toFixed(2)}, load max/mean ${w.loadMaxMean.toFixed(2)}, join ${w.join.toFixed(2)} x ideal, leave ${w.leave.toFixed(2)} x ideal`;

/** Median milliseconds for one assignment of P partitions over n nodes, each run a different membership. */
function computeMs(scheme: Scheme, P: number, n: number): number {
  const membership = (k: number) => [...nodes(n - 1), `probe-${k}`];
  for (let k = 0; k < 3; k++) scheme(P, membership(k));
  const times: number[] = [];
  for (let k = 3; k < 23; k++) {
    const start = process.hrtime.bigint();
    scheme(P, membership(k));
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

function report(title: string, scheme: Scheme, P: number, maxNodes: number, randomSets: number, partitionLoad: number[]): void {
  const header = ['N', 'max', 'mean', 'max/mean', 'load max/mean', 'join moved', 'x ideal', 'leave moved', 'x ideal'];
  const rows = [header];
  const worst = measure(scheme, P, nodes(maxNodes + 1), maxNodes, partitionLoad, () => 0, rows);
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`\n${title}, P = ${P}, node ids node-1..node-N (join adds node-(N+1), leave removes node-1)`);
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join('  '));
  console.log(`worst: ${worstLine(worst)}`);
  if (randomSets > 0) {
    const sets = Array.from({ length: randomSets }, (_, s) => {
      const rnd = random(1000 + s);
      const pool = Array.from({ length: maxNodes + 1 }, () => uuid(rnd));
      return measure(scheme, P, pool, maxNodes, partitionLoad, (n) => Math.floor(rnd() * n));
    });
    const w = sets.reduce((a, b) => ({
      maxMean: Math.max(a.maxMean, b.maxMean),
      loadMaxMean: Math.max(a.loadMaxMean, b.loadMaxMean),
      join: Math.max(a.join, b.join),
      leave: Math.max(a.leave, b.leave),
    }));
    console.log(`worst over ${randomSets} seeded sets of random UUIDs (join adds one, leave removes a random member): ${worstLine(w)}`);
  }
  console.log(`compute time, one assignment of ${P} partitions over ${maxNodes} nodes: ${computeMs(scheme, P, maxNodes).toFixed(1)} ms (median of 20)`);
}

function main(): void {
  const { flags } = parseArgs(process.argv.slice(2));
  const P = Number(flags.partitions ?? DEFAULT_PARTITIONS_NODE_ROUTING);
  const maxNodes = Number(flags['max-nodes'] ?? 64);
  const randomSets = Number(flags['random-sets'] ?? 3);
  if (!Number.isInteger(P) || P < 1) throw new Error(`--partitions needs a positive integer, got ${P}`);
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new Error(`--max-nodes needs a positive integer, got ${maxNodes}`);
  if (!Number.isInteger(randomSets) || randomSets < 0) throw new Error(`--random-sets needs a non-negative integer, got ${randomSets}`);
  const partitionLoad = skewedPartitionLoad(P);
  report('before: plain rendezvous hashing', rendezvous, P, maxNodes, randomSets, partitionLoad);
  report('after: capped rendezvous (what nodes use)', capped, P, maxNodes, randomSets, partitionLoad);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
}
