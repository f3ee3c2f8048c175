import { ConcurrencyGate } from './concurrency-gate';

describe('ConcurrencyGate', () => {
  it('never runs more than the limit at once, runs every call, in order of arrival', async () => {
    const gate = new ConcurrencyGate(3);
    let now = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const calls = Array.from({ length: 10 }, (_, i) =>
      gate.run(async () => {
        started.push(i);
        peak = Math.max(peak, ++now);
        await new Promise<void>((r) => releases.push(r));
        now--;
        return i * 2;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    expect(gate.queued).toBe(7);
    while (releases.length || started.length < 10) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(gate.queued).toBe(0);
  });

  it('frees the slot of a call that fails', async () => {
    const gate = new ConcurrencyGate(1);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('refuses a limit below one', () => {
    expect(() => new ConcurrencyGate(0)).toThrow(/positive integer/);
  });
});
