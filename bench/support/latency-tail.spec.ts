import { gcBetween, gcTotals, latencyTail } from './latency-tail';

describe('latency tail of a phase', () => {
  it('tells slow deliveries bunched into one window from slow deliveries spread over all', () => {
    // 1 s of publishes, one every 10 ms: 10 windows of 100 ms.
    const steady = Array.from({ length: 100 }, (_, i) => ({ sentAt: 1_000 + i * 10, ms: 3 }));
    const paused = steady.map((s, i) => (i >= 40 && i < 45 ? { ...s, ms: 30 } : s));
    expect(latencyTail(paused, 10)).toEqual({ slow: 5, share: 0.05, windows: 1, ofWindows: 10 });
    const spread = steady.map((s, i) => (i % 20 === 0 ? { ...s, ms: 30 } : s));
    expect(latencyTail(spread, 10)).toEqual({ slow: 5, share: 0.05, windows: 5, ofWindows: 10 });
    expect(latencyTail([], 10)).toEqual({ slow: 0, share: 0, windows: 0, ofWindows: 0 });
  });

  it("reads the node's garbage collections by kind, and what happened between two pages", () => {
    const page = (major: number, seconds: number) =>
      [
        '# TYPE nodejs_gc_duration_seconds histogram',
        `nodejs_gc_duration_seconds_bucket{le="0.001",kind="major"} 0`,
        `nodejs_gc_duration_seconds_sum{kind="major"} ${seconds}`,
        `nodejs_gc_duration_seconds_count{kind="major"} ${major}`,
        'nodejs_gc_duration_seconds_sum{kind="minor"} 0.5',
        'nodejs_gc_duration_seconds_count{kind="minor"} 100',
      ].join('\n');
    expect(gcTotals(page(2, 0.01))).toEqual({ major: { count: 2, seconds: 0.01 }, minor: { count: 100, seconds: 0.5 } });
    const between = gcBetween(gcTotals(page(2, 0.01)), gcTotals(page(5, 0.04)));
    expect(between.major.count).toBe(3);
    expect(between.major.seconds).toBeCloseTo(0.03, 9);
    expect(between.minor).toEqual({ count: 0, seconds: 0 });
  });
});
