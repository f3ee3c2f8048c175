import { KickedLoop } from './kicked-loop';
import { loopsDown } from './loop-health';

const until = async (cond: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('KickedLoop', () => {
  it('never overlaps passes and runs exactly one more for kicks during a pass', async () => {
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    let release!: () => void;
    const loop = new KickedLoop(
      async () => {
        passes++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => (release = r));
        active--;
      },
      60_000,
      () => undefined,
    );
    loop.start(); // first pass starts now
    loop.kick();
    loop.kick();
    loop.kick();
    release();
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(2); // the three kicks earned one more pass
    release();
    await loop.stop();
    expect(maxActive).toBe(1);
    loop.kick();
    expect(passes).toBe(2); // stopped: kicks do nothing
  });

  it('reports a failing pass and keeps going', async () => {
    const errors: string[] = [];
    let n = 0;
    const loop = new KickedLoop(
      async () => {
        if (++n === 1) throw new Error('boom');
      },
      60_000,
      (e) => errors.push(e.message),
    );
    loop.start();
    await new Promise((r) => setImmediate(r));
    loop.kick();
    await loop.stop();
    expect(errors).toEqual(['boom']);
    expect(n).toBe(2);
  });
});

describe('KickedLoop health', () => {
  it('a named loop is down in readiness while its last pass failed, and up again after one succeeds', async () => {
    let fail = true;
    let passes = 0;
    const loop = new KickedLoop(
      async () => {
        passes++;
        if (fail) throw new Error('database unreachable');
      },
      60_000,
      () => undefined,
      'test-relay',
    );
    loop.start();
    await until(() => passes === 1 && !loop.up);
    expect(loopsDown()).toContain('test-relay');
    fail = false;
    loop.kick();
    await until(() => passes === 2 && loop.up);
    expect(loopsDown()).not.toContain('test-relay');
    await loop.stop();
  });
});
