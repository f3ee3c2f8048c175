import { listForLog } from './log-lists';

describe('listForLog', () => {
  it('keeps a log line about partitions short whatever the partition count: the first 20 and how many', () => {
    expect(listForLog([3, 1, 2])).toBe('3,1,2');
    const all = Array.from({ length: 16384 }, (_, i) => i);
    const line = listForLog(all);
    expect(line).toBe(`${all.slice(0, 20).join(',')},... (16384)`);
    expect(line.length).toBeLessThan(80);
  });
});
