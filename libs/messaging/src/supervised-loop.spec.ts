import { Logger } from '@nestjs/common';
import { loopsDown } from './loop-health';
import { MAX_BACKOFF_MS, SupervisedLoop } from './supervised-loop';

const until = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('SupervisedLoop', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('restarts a run that ends or throws, and shows down meanwhile', async () => {
    let runs = 0;
    let endRun!: (err?: Error) => void;
    const loop = new SupervisedLoop(
      'test-a',
      (s) => {
        runs++;
        s.ready();
        return new Promise<void>((resolve, reject) => {
          endRun = (err) => (err ? reject(err) : resolve());
          s.onStop(() => resolve());
        });
      },
      { minBackoffMs: 10, maxBackoffMs: 20 },
    );
    await loop.start();
    expect(loop.up).toBe(true);
    expect(loopsDown()).not.toContain('test-a');
    endRun(); // the consumer ended by itself
    expect(runs).toBe(1);
    await until(() => runs === 2 && loop.up);
    endRun(new Error('boom'));
    await until(() => runs === 3 && loop.up);
    await loop.stop();
    expect(loopsDown()).not.toContain('test-a');
  });

  it('is down until its run says ready, and keeps retrying a run that fails at once', async () => {
    let runs = 0;
    const loop = new SupervisedLoop(
      'test-b',
      async (s) => {
        runs++;
        if (runs < 4) throw new Error('not yet');
        s.ready();
        await new Promise<void>((resolve) => s.onStop(resolve));
      },
      { minBackoffMs: 1, maxBackoffMs: 4 },
    );
    const started = loop.start();
    await until(() => runs >= 1);
    expect(loopsDown()).toContain('test-b');
    await started;
    expect(runs).toBe(4);
    expect(loopsDown()).not.toContain('test-b');
    await loop.stop(); // onStop ends the run; no restart after stop
    expect(runs).toBe(4);
  });

  // Class: recovery waiting on a timer chosen during the outage. However long a dependency was
  // down, a loop tries again within MAX_BACKOFF_MS of its coming back.
  it('waits at most MAX_BACKOFF_MS between runs by default, however long it has been failing', async () => {
    jest.useFakeTimers();
    try {
      const startedAt: number[] = [];
      let healthy = false;
      const loop = new SupervisedLoop('test-c', async (s) => {
        startedAt.push(Date.now());
        if (!healthy) throw new Error('no responders');
        s.ready();
        await new Promise<void>((resolve) => s.onStop(resolve));
      });
      void loop.start();
      for (let t = 0; t < 120_000; t += 250) await jest.advanceTimersByTimeAsync(250); // two minutes down
      const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(MAX_BACKOFF_MS);
      expect(Math.max(...gaps)).toBeGreaterThanOrEqual(0.8 * MAX_BACKOFF_MS); // jittered below the cap
      expect(loop.downForMs()).toBeGreaterThanOrEqual(119_000);
      expect(loop.failing).toBe(true);
      expect(loop.lastError).toBe('failed: no responders');
      healthy = true; // the dependency is back
      const before = startedAt.length;
      await jest.advanceTimersByTimeAsync(MAX_BACKOFF_MS);
      expect(startedAt.length).toBe(before + 1);
      expect(loop.up).toBe(true);
      expect(loop.failing).toBe(false);
      expect(loop.lastError).toBeUndefined();
      expect(loop.downForMs()).toBeUndefined();
      const stopped = loop.stop();
      await jest.advanceTimersByTimeAsync(0);
      await stopped;
    } finally {
      jest.useRealTimers();
    }
  });

  it('logs the first failure of a streak, then at most once a minute, and says when it runs again; a quiet loop logs nothing', async () => {
    jest.useFakeTimers();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      for (const quiet of [false, true]) {
        warn.mockClear();
        log.mockClear();
        let healthy = false;
        const loop = new SupervisedLoop(
          `test-d-${quiet}`,
          async (s) => {
            if (!healthy) throw new Error('503');
            s.ready();
            await new Promise<void>((resolve) => s.onStop(resolve));
          },
          { quiet },
        );
        void loop.start();
        for (let t = 0; t < 150_000; t += 500) await jest.advanceTimersByTimeAsync(500); // about 40 failures
        healthy = true;
        await jest.advanceTimersByTimeAsync(MAX_BACKOFF_MS);
        expect(loop.up).toBe(true);
        if (quiet) {
          expect(warn).not.toHaveBeenCalled();
          expect(log).not.toHaveBeenCalled();
        } else {
          expect(warn.mock.calls.length).toBeGreaterThanOrEqual(2); // the first, then once a minute
          expect(warn.mock.calls.length).toBeLessThanOrEqual(4);
          expect(String(warn.mock.calls[0][0])).toMatch(/^failed: 503; restarting in \d+ ms$/);
          expect(String(warn.mock.calls[1][0])).toMatch(/failures in a row/);
          expect(log.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^running again after \d+ restarts$/)]);
        }
        const stopped = loop.stop();
        await jest.advanceTimersByTimeAsync(0);
        await stopped;
      }
    } finally {
      warn.mockRestore();
      log.mockRestore();
      jest.useRealTimers();
    }
  });

  it('logs a loop that flaps (ready, then failing again) at most once a minute, and forgets its state on stop', async () => {
    jest.useFakeTimers();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const loop = new SupervisedLoop('test-e', async (s) => {
        s.ready();
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          s.onStop(() => (clearTimeout(t), r()));
        });
        if (!s.stopping) throw new Error('connection reset');
      });
      void loop.start();
      for (let t = 0; t < 130_000; t += 500) await jest.advanceTimersByTimeAsync(500); // about 90 failures
      expect(warn.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(warn.mock.calls.length).toBeLessThanOrEqual(3);
      await jest.advanceTimersByTimeAsync(1000); // the run ends: waiting to run again
      const stopped = loop.stop();
      await jest.advanceTimersByTimeAsync(0);
      await stopped;
      expect(loop.failing).toBe(false);
      expect(loop.downForMs()).toBeUndefined();
    } finally {
      warn.mockRestore();
      jest.useRealTimers();
    }
  });
});
