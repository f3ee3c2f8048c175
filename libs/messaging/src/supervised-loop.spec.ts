import { Logger } from '@nestjs/common';
import { loopsDown } from './loop-health';
import { SupervisedLoop } from './supervised-loop';

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
});
