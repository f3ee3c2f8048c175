import { bucketQuantile, bucketsBetween, histogramBuckets } from './histogram';

const page = (counts: number[]) =>
  [
    '# HELP x_seconds help',
    '# TYPE x_seconds histogram',
    `x_seconds_bucket{le="0.001"} ${counts[0]}`,
    `x_seconds_bucket{le="0.0025"} ${counts[1]}`,
    `x_seconds_bucket{le="+Inf"} ${counts[2]}`,
    `x_seconds_sum 1`,
    `x_seconds_count ${counts[2]}`,
    'y_seconds_bucket{le="0.001"} 99',
  ].join('\n');

describe('histogram figures of a /metrics page', () => {
  it('reads the buckets of one histogram only, +Inf last', () => {
    expect(histogramBuckets(page([1, 3, 4]), 'x_seconds')).toEqual([
      [0.001, 1],
      [0.0025, 3],
      [Infinity, 4],
    ]);
    expect(histogramBuckets(page([1, 3, 4]), 'z_seconds')).toEqual([]);
  });

  it('takes the observations between two pages, and interpolates a quantile inside its bucket', () => {
    const between = bucketsBetween(histogramBuckets(page([10, 10, 10]), 'x_seconds'), histogramBuckets(page([10, 14, 14]), 'x_seconds'));
    expect(between).toEqual([
      [0.001, 0],
      [0.0025, 4],
      [Infinity, 4],
    ]);
    // All 4 in (1 ms, 2.5 ms]: the median is half way.
    expect(bucketQuantile(between, 0.5)).toBeCloseTo(0.00175, 6);
    expect(
      bucketQuantile(
        [
          [0.001, 0],
          [Infinity, 0],
        ],
        0.5,
      ),
    ).toBeUndefined();
    // Beyond the last finite bound: that bound.
    expect(
      bucketQuantile(
        [
          [0.001, 0],
          [Infinity, 3],
        ],
        0.5,
      ),
    ).toBe(0.001);
  });
});
