import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`, 100 almost everywhere). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in milliseconds, or undefined once it has gone. */
export function cpuMs(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

function ppidOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  return stat ? Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) : undefined;
}

/** Resident set size in MB (VmRSS), and the peak (VmHWM). */
export function rssMb(pid: number): { rss: number; peak: number } | undefined {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Our own children running `comm` (e.g. the test platform's nats-server). */
export function childrenNamed(comm: string, parent = process.pid): number[] {
  return pids().filter((p) => ppidOf(p) === parent && read(`/proc/${p}/comm`)?.trim() === comm);
}

/**
 * PostgreSQL processes that work for the bench, in two groups:
 * - `backends`: connections to the bench's own database (their command line names it; the delivery
 *   node's pool, the config service, the bench's own polling connection). Other people's databases on
 *   the same server are left out.
 * - `shared`: the server's auxiliary processes (walwriter, checkpointer, background writer,
 *   autovacuum, ...) that work for every database at once: counted, but printed apart, since anything
 *   else running on this server shows up there too.
 */
export function postgresPids(database: string): { backends: number[]; shared: number[] } {
  const backends: number[] = [];
  const shared: number[] = [];
  for (const p of pids()) {
    if (read(`/proc/${p}/comm`)?.trim() !== 'postgres') continue;
    const cmd = (read(`/proc/${p}/cmdline`) ?? '').replace(/\0/g, ' ').trim();
    if (!cmd.startsWith('postgres:')) continue; // the postmaster itself does no per-request work
    if (cmd.split(' ').includes(database))
      backends.push(p); // our connections, and autovacuum working on our database
    else if (!/\(\d+\)|\[local\]|autovacuum worker/.test(cmd)) shared.push(p); // not someone else's connection
  }
  return { backends, shared };
}

/** CPU milliseconds of groups of processes between start() and stop(); processes that appear in between count from zero. */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  constructor(private readonly groups: () => Record<string, number[]>) {}

  begin(): void {
    this.start.clear();
    for (const list of Object.values(this.groups())) for (const p of list) this.start.set(p, cpuMs(p) ?? 0);
  }

  /** CPU ms per group since begin() (a process that exited in between is lost: noted in results.md). */
  end(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, list] of Object.entries(this.groups())) {
      out[name] = list.reduce((s, p) => s + Math.max(0, (cpuMs(p) ?? this.start.get(p) ?? 0) - (this.start.get(p) ?? 0)), 0);
    }
    return out;
  }
}

export function machine(): { cpu: string; cores: number; ramGb: number } {
  const c = cpus();
  return { cpu: c[0]?.model?.trim() ?? 'unknown', cores: c.length, ramGb: Math.round((totalmem() / 2 ** 30) * 10) / 10 };
}

/** The 1-minute load average when a phase starts: says how busy the box was with other work. */
export function loadAverage(): number {
  return Number((read('/proc/loadavg') ?? '0').split(' ')[0]);
}
