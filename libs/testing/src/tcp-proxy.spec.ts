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

  it('points a URL at the proxy', () => {
    expect(viaProxy('postgres://postgres@127.0.0.1:5432/db?x=1', { host: '127.0.0.1', port: 7 })).toBe('postgres://postgres@127.0.0.1:7/db?x=1');
  });
});
