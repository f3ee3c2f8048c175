import type { LatencySample } from './helpers';

/**
 * Where a phase's slow deliveries fall in time. Spread over most windows, they are a cost any
 * delivery may pay; bunched into a few, they are pauses (a garbage collection, a checkpoint) that
 * hold up everything in flight at the time.
 */
export interface LatencyTail {
  /** Deliveries slower than the threshold. */
  slow: number;
  /** Their share of all deliveries (0..1). */
  share: number;
  /** Windows (by publish time) holding at least one of them. */
  windows: number;
  /** Windows the phase spans. */
  ofWindows: number;
}

export function latencyTail(samples: readonly LatencySample[], thresholdMs: number, windowMs = 100): LatencyTail {
  if (!samples.length) return { slow: 0, share: 0, windows: 0, ofWindows: 0 };
  let first = Infinity;
  let last = -Infinity;
  for (const s of samples) {
    first = Math.min(first, s.sentAt);
    last = Math.max(last, s.sentAt);
  }
  const hit = new Set<number>();
  let slow = 0;
  for (const s of samples) {
    if (s.ms <= thresholdMs) continue;
    slow++;
    hit.add(Math.floor((s.sentAt - first) / windowMs));
  }
  return { slow, share: slow / samples.length, windows: hit.size, ofWindows: Math.floor((last - first) / windowMs) + 1 };
}

/** Garbage collections of one kind (prom-client's `nodejs_gc_duration_seconds`): how many, and their pauses in all. */
export interface GcTotals {
  count: number;
  seconds: number;
}

/** The node's collections by kind (major, minor, incremental, weakcb) as one /metrics page counts them. */
export function gcTotals(page: string): Record<string, GcTotals> {
  const out: Record<string, GcTotals> = {};
  const line = /^nodejs_gc_duration_seconds_(sum|count)\{kind="([a-z]+)"\} ([0-9.e+-]+)$/gm;
  for (let m = line.exec(page); m; m = line.exec(page)) {
    const t = (out[m[2]] ??= { count: 0, seconds: 0 });
    if (m[1] === 'sum') t.seconds = Number(m[3]);
    else t.count = Number(m[3]);
  }
  return out;
}

/** The collections between two pages, by kind. */
export function gcBetween(before: Record<string, GcTotals>, after: Record<string, GcTotals>): Record<string, GcTotals> {
  const out: Record<string, GcTotals> = {};
  for (const [kind, a] of Object.entries(after)) out[kind] = { count: a.count - (before[kind]?.count ?? 0), seconds: a.seconds - (before[kind]?.seconds ?? 0) };
  return out;
}
