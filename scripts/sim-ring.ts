/**
 * Partition-ownership simulation for N = 1..64 nodes: the busiest node against the mean (partitions,
 * and a skewed webhook load), and the share of partitions moved on a join or a leave, for plain
 * rendezvous hashing ("before") and bounded loads over rendezvous ranks ("after", what nodes use).
 * Usage: npm run sim:ring -- [--partitions 256] [--max-nodes 64]
 */
import { balancedOwners, DEFAULT_PARTITIONS, ownerOf, partitionOf } from '../libs/hashing/src';
import { parseArgs } from './cli-args';

type Owners = Array<string | undefined>;
type Scheme = (partitions: number, ids: readonly string[]) => Owners;

const rendezvous: Scheme = (p, ids) => Array.from({ length: p }, (_, i) => ownerOf(i, ids));
const bounded: Scheme = balancedOwners;

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

function row(scheme: Scheme, P: number, n: number, partitionLoad: number[]): string[] {
  const ids = nodes(n);
  const current = scheme(P, ids);
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  const loads = new Map<string, number>(ids.map((id) => [id, 0]));
  current.forEach((o, p) => {
    counts.set(o!, counts.get(o!)! + 1);
    loads.set(o!, loads.get(o!)! + partitionLoad[p]);
  });
  const max = Math.max(...counts.values());
  const totalLoad = partitionLoad.reduce((a, b) => a + b, 0);
  const joined = scheme(P, nodes(n + 1)); // adds node-(n+1)
  const left = n > 1 ? scheme(P, ids.slice(1)) : undefined; // removes node-1, the oldest
  const joinMoved = movedShare(current, joined);
  const leaveMoved = left ? movedShare(current, left) : NaN;
  return [
    String(n),
    String(max),
    (P / n).toFixed(2),
    (max / (P / n)).toFixed(2),
    (Math.max(...loads.values()) / (totalLoad / n)).toFixed(2),
    joinMoved.toFixed(3),
    (joinMoved * (n + 1)).toFixed(2),
    left ? leaveMoved.toFixed(3) : '-',
    left ? (leaveMoved * n).toFixed(2) : '-',
  ];
}

function table(title: string, scheme: Scheme, P: number, maxNodes: number, partitionLoad: number[]): void {
  const header = ['N', 'max', 'mean', 'max/mean', 'load max/mean', 'join moved', 'x ideal', 'leave moved', 'x ideal'];
  const rows = [header];
  const worst = [0, 0, 0, 0];
  for (let n = 1; n <= maxNodes; n++) {
    const r = row(scheme, P, n, partitionLoad);
    rows.push(r);
    [3, 4, 6, 8].forEach((c, i) => (worst[i] = Math.max(worst[i], Number(r[c]) || 0)));
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`\n${title}, P = ${P}, node ids node-1..node-N (join adds node-(N+1), leave removes node-1)`);
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join('  '));
  console.log(`worst: max/mean ${worst[0].toFixed(2)}, load max/mean ${worst[1].toFixed(2)}, join ${worst[2].toFixed(2)} x ideal, leave ${worst[3].toFixed(2)} x ideal`);
}

function main(): void {
  const { flags } = parseArgs(process.argv.slice(2));
  const P = Number(flags.partitions ?? DEFAULT_PARTITIONS);
  const maxNodes = Number(flags['max-nodes'] ?? 64);
  if (!Number.isInteger(P) || P < 1) throw new Error(`--partitions needs a positive integer, got ${P}`);
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new Error(`--max-nodes needs a positive integer, got ${maxNodes}`);
  const partitionLoad = skewedPartitionLoad(P);
  table('before: plain rendezvous hashing', rendezvous, P, maxNodes, partitionLoad);
  table('after: bounded loads over rendezvous ranks', bounded, P, maxNodes, partitionLoad);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
}
