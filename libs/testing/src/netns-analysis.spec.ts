import { doubleSends, failoverMs, longestSilenceMs, Send, worstWindow } from './netns-analysis';

const s = (webhook: string, node: string, at: number): Send => ({ webhook, node, at });

describe('network-fault analysis', () => {
  it('counts every switch between nodes within one second for a webhook as a double send', () => {
    const clean = [s('w1', 'a', 0), s('w1', 'a', 200), s('w1', 'b', 1500), s('w1', 'b', 1700), s('w2', 'b', 100)];
    expect(doubleSends(clean)).toEqual([]);
    // Two owners at once interleave: a b a within a second is two switches.
    const interleaved = [s('w1', 'a', 0), s('w1', 'b', 100), s('w1', 'a', 300), s('w1', 'a', 5000)];
    expect(doubleSends(interleaved)).toHaveLength(2);
    // Other webhooks' requests in between do not hide a switch; order of input does not matter.
    expect(doubleSends([s('w1', 'b', 600), s('w2', 'c', 300), s('w1', 'a', 0)])).toEqual([{ webhook: 'w1', first: { node: 'a', at: 0 }, then: { node: 'b', at: 600 } }]);
  });

  it('finds the busiest one-second window', () => {
    expect(worstWindow([0, 999, 1000, 1001, 1500])).toEqual({ count: 4, at: 999 });
    expect(worstWindow([])).toEqual({ count: 0, at: 0 });
  });

  it('measures failover from the fault to the first request by another node, for the webhooks the cut node served', () => {
    const sends = [s('w1', 'a', 0), s('w1', 'b', 12_000), s('w2', 'b', 50), s('w2', 'b', 1100), s('w3', 'a', 500), s('w3', 'c', 9_000)];
    expect(failoverMs(sends, ['a'], 1000)).toBe(11_000);
    expect(failoverMs([s('w1', 'a', 0), s('w1', 'a', 3000)], ['a'], 1000)).toBeUndefined(); // nobody took over
    expect(failoverMs([s('w1', 'b', 0)], ['a'], 1000)).toBe(undefined);
  });

  it('measures the longest silence of any webhook in a window, edges included', () => {
    expect(longestSilenceMs([s('w1', 'a', 100), s('w1', 'a', 400), s('w2', 'b', 900)], 0, 1000)).toBe(900);
  });
});
