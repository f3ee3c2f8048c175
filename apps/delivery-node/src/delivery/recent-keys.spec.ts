import { RecentKeys } from './recent-keys';

describe('RecentKeys', () => {
  it('remembers a key for its time, and again from the start when added again', () => {
    let now = 0;
    const keys = new RecentKeys(1000, 10, () => now);
    keys.add('a');
    now = 600;
    keys.add('b');
    expect(keys.has('a')).toBe(true);
    keys.add('a'); // remembered anew until 1600
    now = 1200;
    expect(keys.has('a')).toBe(true);
    expect(keys.has('b')).toBe(true);
    now = 1601;
    expect(keys.has('a')).toBe(false);
    expect(keys.has('b')).toBe(false);
    expect(keys.has('never')).toBe(false);
  });

  it('holds at most `max` keys, forgetting the oldest first', () => {
    const keys = new RecentKeys(60_000, 3, () => 0);
    for (const k of ['a', 'b', 'c', 'd']) keys.add(k);
    expect(['a', 'b', 'c', 'd'].map((k) => keys.has(k))).toEqual([false, true, true, true]);
  });
});
