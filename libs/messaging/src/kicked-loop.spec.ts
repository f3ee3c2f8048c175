import { KickedLoop } from './kicked-loop';

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
    const loop = new KickedLoop(async () => {
      if (++n === 1) throw new Error('boom');
    }, 60_000, (e) => errors.push(e.message));
    loop.start();
    await new Promise((r) => setImmediate(r));
    loop.kick();
    await loop.stop();
    expect(errors).toEqual(['boom']);
    expect(n).toBe(2);
  });
});
