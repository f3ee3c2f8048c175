/**
 * Cost of the partition count on this machine: one delivery node holding every partition of a fresh
 * cluster (own nats-server and database); time until /health is green and every partition is
 * consumed, idle CPU of the node and of nats-server over 20 s, the node's RSS, a graceful stop, and
 * the time until a second start of the node (its consumers durable by then, its partitions released)
 * consumes every partition again.
 * Prints each row and appends them to bench/results.md (BENCH_RESULTS=/dev/null for a trial run).
 * Usage (after npm run build): node dist/bench/partition-cost.js [--partitions 64,256,1024] [--replicas 3] [--routing node]
 * (`--replicas 3`: a cluster of three nats-servers and streams, buckets and consumers of 3 replicas,
 * as in production; nats-server CPU is then the sum of the three. `--routing node`: node routing,
 * one mailbox consumer per node instead of one consumer per partition.)
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDeliveryNode, startNatsCluster, startTestPlatform, TestNatsCluster } from '../libs/testing/src';
import { parseArgs } from '../scripts/cli-args';
import { CpuMeter, postgresPids } from './support/proc-stats';
import { appendRun } from './support/results-file';

const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const RESULTS = process.env.BENCH_RESULTS ?? join(process.cwd(), 'bench', 'results.md');
const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;

async function main(): Promise<void> {
  const { flags } = parseArgs(process.argv.slice(2));
  const replicas = Number(flags.replicas ?? '1');
  const routing = flags.routing === 'node' ? 'node' : 'partition';
  const rows: string[] = [];
  for (const P of (flags.partitions ?? '64,256,1024').split(',').map(Number)) {
    const platform = await startTestPlatform({ DELIVERY_PARTITIONS: String(P), LOG_LEVEL: 'error' });
    const cluster: TestNatsCluster | undefined = replicas > 1 ? await startNatsCluster(replicas) : undefined;
    const nodeEnv = { DELIVERY_TASK_ROUTING: routing, ...(cluster ? { NATS_URL: cluster.url, NATS_REPLICAS: String(replicas) } : {}) };
    const natsPids = (cluster?.servers ?? [platform.nats]).map((s) => Number(execSync(`pgrep -f 'nats-server -a 127.0.0.1 -p ${s.port} '`).toString().trim().split('\n')[0]));
    const natsCpu = () => natsPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const started = async () => {
      const t0 = Date.now();
      const node = await spawnDeliveryNode('cost-1', nodeEnv);
      await node.ready(300_000);
      for (;;) {
        const m = await fetch(`http://127.0.0.1:${node.port}/metrics`).then((r) => r.text());
        if (Number(/^webhook_owned_partitions (\d+)/m.exec(m)?.[1]) === P) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      return { node, ms: Date.now() - t0 };
    };
    const { node, ms: readyMs } = await started();
    // PostgreSQL: the backends connected to this cluster's database (the node's retry scanner and reconciler).
    const pg = new CpuMeter(() => ({ backends: postgresPids(platform.db.name).backends }));
    const c0 = cpuSeconds(node.proc.pid!),
      n0 = natsCpu(),
      w0 = Date.now();
    pg.begin();
    await new Promise((r) => setTimeout(r, 20_000));
    const secs = (Date.now() - w0) / 1000;
    const pgPercent = pg.end().backends / 10 / secs;
    const idle = `node ${((100 * (cpuSeconds(node.proc.pid!) - c0)) / secs).toFixed(1)} %, nats-server ${((100 * (natsCpu() - n0)) / secs).toFixed(1)} %, postgres ${pgPercent.toFixed(1)} %`;
    const rss = rssMb(node.proc.pid!).toFixed(0);
    const s0 = Date.now();
    await node.stop(120_000);
    const stopMs = Date.now() - s0;
    const again = await started();
    await again.node.stop(120_000);
    await cluster?.dispose();
    const row = `P=${P}${cluster ? ` R${replicas}` : ''}${routing === 'node' ? ', node routing' : ''}: ready ${readyMs} ms (again ${again.ms} ms); idle CPU ${idle}; node RSS ${rss} MB; graceful stop ${stopMs} ms`;
    console.log(row);
    rows.push(row);
    await platform.close();
  }
  appendRun(RESULTS, 'partition cost (one node holding every partition; bench/partition-cost.ts), ', rows, '# Benchmark results\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
