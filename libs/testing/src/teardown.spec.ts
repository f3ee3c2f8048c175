import { Teardown } from './teardown';

describe('Teardown', () => {
  // The class: a set-up that fails half way leaks what it had started.
  it('stops what a failed set-up had started, last first, and rethrows', async () => {
    const stopped: string[] = [];
    const t = new Teardown();
    await expect(
      t.guard(async () => {
        t.add('nats', (x) => stopped.push(x));
        t.add('db', async (x) => {
          stopped.push(x);
          throw new Error('drop failed'); // does not keep the next step from running
        });
        t.add('sink', (x) => stopped.push(x));
        throw new Error('config service refused its environment');
      }),
    ).rejects.toThrow('config service refused its environment');
    expect(stopped).toEqual(['sink', 'db', 'nats']);
  });

  it('keeps everything running after a set-up that succeeds, until run()', async () => {
    const stopped: string[] = [];
    const t = new Teardown();
    expect(await t.guard(async () => t.add(42, () => stopped.push('x')))).toBe(42);
    expect(stopped).toEqual([]);
    await t.run();
    await t.run(); // once only
    expect(stopped).toEqual(['x']);
  });
});
