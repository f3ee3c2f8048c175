import { once } from 'node:events';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { startTcpProxy, TcpProxy, viaProxy } from './tcp-proxy';

/** One round trip through `port`: resolves with the echo, or with what went wrong. */
function roundTrip(port: number, timeoutMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (v: string) => (clearTimeout(timer), s.destroy(), resolve(v));
    const timer = setTimeout(() => done('silence'), timeoutMs);
    s.on('data', (d) => done(`echo:${d}`));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'));
    s.on('close', () => done('closed'));
    s.connect(port, '127.0.0.1', () => s.write('ping'));
  });
}

describe('startTcpProxy', () => {
  const echo = createServer((s) => s.on('error', () => undefined).pipe(s));
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
  });

  afterAll(async () => {
    await proxy.close();
    echo.close();
  });

  it('pipes, refuses or black-holes on command, and recovers', async () => {
    expect(await roundTrip(proxy.port)).toBe('echo:ping');

    // An open connection is cut at once.
    const open = new Socket();
    open.on('error', () => undefined);
    open.connect(proxy.port, '127.0.0.1');
    await once(open, 'connect');
    const closed = once(open, 'close');
    for (let i = 0; proxy.openConnections === 0 && i < 100; i++) await new Promise((r) => setImmediate(r));
    proxy.cut('refuse');
    await closed;

    expect(['ECONNRESET', 'closed']).toContain(await roundTrip(proxy.port));
    proxy.cut('blackhole');
    expect(await roundTrip(proxy.port)).toBe('silence');
    proxy.restore();
    expect(await roundTrip(proxy.port)).toBe('echo:ping');
  });

  it('delays every chunk both ways on command, keeping their order, and stops delaying', async () => {
    const s = new Socket();
    s.on('error', () => undefined);
    s.connect(proxy.port, '127.0.0.1');
    await once(s, 'connect');
    let got = '';
    s.on('data', (d) => (got += d));
    const echoed = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => (got.includes(text) ? (s.off('data', check), resolve()) : undefined);
        s.on('data', check);
        check();
      });
    proxy.setDelay(150);
    const sentAt = Date.now();
    s.write('a');
    s.write('b');
    setTimeout(() => s.write('c'), 20);
    await echoed('abc');
    expect(got).toBe('abc');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(300); // held 150 ms each way
    proxy.setDelay(0);
    s.write('d');
    await echoed('abcd');
    s.destroy();
  });

  it('points a URL at the proxy', () => {
    expect(viaProxy('postgres://postgres@127.0.0.1:5432/db?x=1', { host: '127.0.0.1', port: 7 })).toBe('postgres://postgres@127.0.0.1:7/db?x=1');
  });
});
