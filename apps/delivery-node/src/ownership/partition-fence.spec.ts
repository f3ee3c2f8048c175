import { OwnershipFence, UNFENCED } from './partition-fence';
import { StaticOwnership } from './static-ownership';

describe('OwnershipFence', () => {
  it('refuses every partition until the node has an ownership, then asks it', () => {
    const fence = new OwnershipFence();
    expect(fence.mayDeliver(0)).toBe(false);
    const ownership = new StaticOwnership(4, 'node-1');
    fence.use(ownership);
    expect([0, 1, 2, 3].map((p) => fence.mayDeliver(p))).toEqual([true, true, true, true]);
    expect(fence.mayDeliver(4)).toBe(false);
  });

  it('unfenced (a dispatcher without a node) allows every partition', () => {
    expect(UNFENCED.mayDeliver(123)).toBe(true);
  });
});
