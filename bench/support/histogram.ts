/** Cumulative bucket counts of one Prometheus histogram: [upper bound, observations at or below it]. */
export type Buckets = Array<[number, number]>;

/** The `<name>_bucket{le="..."}` lines of a /metrics page (no other labels), in order. */
export function histogramBuckets(page: string, name: string): Buckets {
  const out: Buckets = [];
  const line = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+(?:\\.\\d+)?)$`, 'gm');
  for (let m = line.exec(page); m; m = line.exec(page)) out.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  return out;
}

/** What was observed between two pages of the same histogram. */
export function bucketsBetween(before: Buckets, after: Buckets): Buckets {
  return after.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)]);
}

/**
 * The q-quantile (0..1) of a histogram, linear inside the bucket it falls in (as Prometheus'
 * histogram_quantile does); undefined without observations. Falls in +Inf: the last finite bound.
 */
export function bucketQuantile(buckets: Buckets, q: number): number | undefined {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (!total) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, n] of buckets) {
    if (n >= rank) {
      if (le === Infinity) return lowerBound;
      return lowerBound + ((le - lowerBound) * (rank - lowerCount)) / Math.max(1, n - lowerCount);
    }
    lowerBound = le;
    lowerCount = n;
  }
  return lowerBound;
}
