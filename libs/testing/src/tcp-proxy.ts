import { once } from 'node:events';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/** What a cut proxy does with new connections: close them at once, or accept and never answer. */
export type CutMode = 'refuse' | 'blackhole';

export interface TcpProxy {
  /** 127.0.0.1 unless another listen address was given */
  host: string;
  port: number;
  /** Connections currently piped to the target. */
  readonly openConnections: number;
  /**
   * Destroys every open connection (both sides) and, until restore(), refuses new ones
   * ('refuse': accepted then closed at once) or holds them without a byte ('blackhole').
   */
  cut(mode?: CutMode): void;
  /** Pipes new connections to the target again (held blackholed ones are dropped). */
  restore(): void;
  /** Holds every chunk this long before passing it on, both ways, order kept (0: none); applies to open connections too. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free loopback port to `target`, under the test's control: point a service's
 * DATABASE_URL (or any client) at it to simulate the dependency going away and coming back.
 */
export async function startTcpProxy(target: { host: string; port: number }, opts: { listenHost?: string } = {}): Promise<TcpProxy> {
  const piped = new Set<Socket>();
  const held = new Set<Socket>();
  let mode: CutMode | undefined;
  let delayMs = 0;

  /** from -> to, each chunk held until delayMs after it arrived (a slow link, not a slow reader). */
  const forward = (from: Socket, to: Socket) => {
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length && queue[0].due <= now) to.write(queue.shift()!.chunk);
      if (queue.length) timer = setTimeout(pump, queue[0].due - now);
    };
    from.on('data', (chunk: Buffer) => {
      if (!delayMs && !queue.length) return void to.write(chunk);
      queue.push({ due: Date.now() + delayMs, chunk });
      timer ??= setTimeout(pump, delayMs);
    });
    from.on('end', () => (queue.length ? setTimeout(() => to.end(), queue[queue.length - 1].due - Date.now() + 1) : to.end()));
    from.on('close', () => clearTimeout(timer));
    from.resume();
  };

  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'refuse') return void client.destroy();
    if (mode === 'blackhole') {
      held.add(client);
      client.on('close', () => held.delete(client));
      client.pause();
      return;
    }
    const upstream = new Socket();
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => (upstream.destroy(), piped.delete(client), piped.delete(upstream)));
    upstream.on('close', () => (client.destroy(), piped.delete(client), piped.delete(upstream)));
    piped.add(client).add(upstream);
    client.pause();
    upstream.connect(target.port, target.host, () => {
      forward(client, upstream);
      forward(upstream, client);
    });
  });
  const host = opts.listenHost ?? '127.0.0.1';
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  const dropAll = (set: Set<Socket>) => {
    for (const s of set) s.destroy();
    set.clear();
  };

  return {
    host,
    port,
    get openConnections() {
      return piped.size / 2;
    },
    cut(m: CutMode = 'refuse') {
      mode = m;
      dropAll(piped);
    },
    restore() {
      mode = undefined;
      dropAll(held);
    },
    setDelay(ms: number) {
      delayMs = ms;
    },
    async close() {
      dropAll(piped);
      dropAll(held);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `url` with its host and port replaced by the proxy's (e.g. a DATABASE_URL). */
export function viaProxy(url: string, proxy: Pick<TcpProxy, 'host' | 'port'>): string {
  const u = new URL(url);
  u.hostname = proxy.host;
  u.port = String(proxy.port);
  return u.toString();
}
