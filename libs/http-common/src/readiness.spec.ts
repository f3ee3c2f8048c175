import { Readiness } from './readiness';

describe('Readiness', () => {
  it('reports ok, an outage as unavailable (never the driver text), and a plain failure by its message', async () => {
    const readiness = new Readiness();
    readiness.add({ name: 'up', check: () => undefined });
    readiness.register('db', () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432 user=admin'), { code: 'ECONNREFUSED' })));
    readiness.add({
      name: 'loops',
      check: () => {
        throw new Error('down: fanout');
      },
    });
    expect(readiness.names()).toEqual(['up', 'db', 'loops']);
    expect(await readiness.probe('up')).toBe('ok');
    expect(await readiness.probe('db')).toBe('unavailable');
    expect(await readiness.probe('loops')).toBe('down: fanout');
  });

  it('a probe that never answers is not ready, within a bounded time', async () => {
    jest.useFakeTimers();
    try {
      const readiness = new Readiness();
      readiness.register('hangs', () => new Promise(() => undefined));
      const state = readiness.probe('hangs');
      await jest.advanceTimersByTimeAsync(2_000);
      expect(await state).toBe('timeout');
    } finally {
      jest.useRealTimers();
    }
  });
});
