/**
 * Rendezvous-hashing simulation: load balance and partitions moved on a join or leave, for
 * N = 1..32 nodes. Usage: node dist/scripts/sim-ring.js [--partitions 64]
 */
import { assignPartitions, ownerOf } from '../libs/hashing/src';

const MAX_NODES = 32;

function parsePartitions(argv: readonly string[]): number {
  const i = argv.findIndex((a) => a === '--partitions' || a.startsWith('--partitions='));
  if (i < 0) return 64;
  const raw = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const p = Number(raw);
  if (!Number.isInteger(p) || p < 1) throw new Error(`--partitions needs a positive integer, got ${raw}`);
  return p;
}

const nodes = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);
const owners = (p: number, ids: readonly string[]) => Array.from({ length: p }, (_, i) => ownerOf(i, ids));
const movedShare = (a: readonly unknown[], b: readonly unknown[]) => a.filter((o, i) => o !== b[i]).length / a.length;

function main(): void {
  const P = parsePartitions(process.argv.slice(2));
  const header = ['N', 'max', 'mean', 'max/mean', 'join moved', 'ideal 1/(N+1)', 'leave moved', 'ideal 1/N'];
  const rows = [header];
  for (let n = 1; n <= MAX_NODES; n++) {
    const ids = nodes(n);
    const loads = [...assignPartitions(P, ids).values()].map((ps) => ps.length);
    const mean = P / n;
    const max = Math.max(...loads);
    const current = owners(P, ids);
    const joined = owners(P, nodes(n + 1)); // adds node-(n+1)
    const left = owners(P, ids.slice(1)); // always removes node-1, the oldest
    rows.push([
      String(n), String(max), mean.toFixed(2), (max / mean).toFixed(2),
      movedShare(current, joined).toFixed(3), (1 / (n + 1)).toFixed(3),
      movedShare(current, left).toFixed(3), (1 / n).toFixed(3),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`rendezvous hashing, P = ${P} partitions, node ids node-1..node-N`);
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c])).join('  '));
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
}
