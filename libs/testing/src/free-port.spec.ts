import { freePort } from './nats-server';

describe('freePort', () => {
  it('never hands out a port twice, whether asked at once or one after another', async () => {
    const together = await Promise.all(Array.from({ length: 100 }, freePort));
    const after: number[] = [];
    for (let i = 0; i < 100; i++) after.push(await freePort());
    const all = [...together, ...after];
    expect(new Set(all).size).toBe(all.length);
  });
});
