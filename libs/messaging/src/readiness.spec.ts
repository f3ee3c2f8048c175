import { unwatchLoop, watchLoop } from './loop-health';
import { LoopsReadiness } from './readiness';

describe('LoopsReadiness', () => {
  it('is not ready while a watched loop is down, and names it', () => {
    const probe = new LoopsReadiness();
    const loop = { name: 'readiness-test-loop', up: false };
    watchLoop(loop);
    try {
      expect(() => probe.check()).toThrow('down: readiness-test-loop');
      loop.up = true;
      expect(() => probe.check()).not.toThrow();
    } finally {
      unwatchLoop(loop);
    }
  });
});
