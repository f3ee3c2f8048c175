import { ServerSwitch } from './server-switch';

function setup(closed = false) {
  let now = 0;
  const nc = {
    reconnects: 0,
    isClosed: () => closed,
    reconnect: () => {
      nc.reconnects++;
      return Promise.resolve();
    },
  };
  const sw = new ServerSwitch(nc, { afterMs: 5000, pauseMs: 2500, now: () => now });
  /** A heartbeat failing (or succeeding) at `ms`. */
  const fails = (...times: number[]) => times.forEach((t) => ((now = t), sw.check()));
  const succeeds = (t: number) => ((now = t), sw.succeeded());
  return { nc, fails, succeeds };
}

describe('ServerSwitch', () => {
  it('reconnects once no write has succeeded for afterMs, then gives the next server afterMs', () => {
    const { nc, fails } = setup();
    fails(0, 1500, 3000, 4500);
    expect(nc.reconnects).toBe(0);
    fails(5000);
    expect(nc.reconnects).toBe(1);
    fails(6500, 8000, 9500);
    expect(nc.reconnects).toBe(1); // the next server is tried for afterMs first
    fails(10_000);
    expect(nc.reconnects).toBe(2);
  });

  it('counts from the last success', () => {
    const { nc, fails, succeeds } = setup();
    fails(0, 1500, 3000);
    succeeds(4000);
    fails(4500, 6000, 7500, 8500);
    expect(nc.reconnects).toBe(0);
    fails(9000);
    expect(nc.reconnects).toBe(1);
  });

  it('does not blame the server for a pause of this process', () => {
    const { nc, fails } = setup();
    fails(0, 1500, 3000, 8000, 9500, 11_000, 12_500);
    expect(nc.reconnects).toBe(0); // the 5 s gap was ours; counted again from 8 s
    fails(13_000);
    expect(nc.reconnects).toBe(1);
  });

  it('never reconnects a closed connection', () => {
    const { nc, fails } = setup(true);
    fails(...Array.from({ length: 40 }, (_, i) => i * 1500));
    expect(nc.reconnects).toBe(0);
  });
});
