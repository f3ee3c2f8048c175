import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { promisify } from 'node:util';
import { SsrfBlockedError, assertUrlAllowed, guardedLookup, isForbiddenAddress } from './ssrf-guard';

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    '0.0.0.0',
    '0.1.2.3',
    '::',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '169.254.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fc00::1',
    'fd12:3456::1',
    '224.0.0.1',
    '239.255.255.250',
    'ff02::1',
    '255.255.255.255',
    '240.0.0.1',
    '192.0.2.10',
    '198.18.0.1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '[::ffff:169.254.169.254]',
    '::127.0.0.1', // deprecated IPv4-compatible
    '64:ff9b::10.0.0.1',
    '64:ff9b::a9fe:a9fe', // NAT64 of private addresses
    '2002:a00:1::',
    '2002:7f00:1::1', // 6to4 of private addresses
    '2001::1',
    '2001:db8::1',
    'not-an-ip',
    'localhost',
    '',
    '1.2.3',
    '::ffff:999.1.1.1',
  ])('forbids %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '11.0.0.1',
    '223.255.255.254',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows public %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(false);
  });
});

describe('assertUrlAllowed', () => {
  it('refuses private IP literals, which net.connect never looks up', () => {
    for (const u of ['https://127.0.0.1/x', 'https://[::1]:8443/', 'https://169.254.169.254/latest', 'https://[::ffff:10.0.0.1]/', 'https://0x7f.1/', 'https://2130706433/']) {
      expect(() => assertUrlAllowed(new URL(u), false)).toThrow(SsrfBlockedError);
      expect(() => assertUrlAllowed(new URL(u), true)).not.toThrow();
    }
  });

  it('lets public literals and names through (names are checked at lookup)', () => {
    expect(() => assertUrlAllowed(new URL('https://8.8.8.8/hook'), false)).not.toThrow();
    expect(() => assertUrlAllowed(new URL('https://example.com/hook'), false)).not.toThrow();
  });

  it('allows plain http only with private networks allowed, and nothing else', () => {
    expect(() => assertUrlAllowed(new URL('http://example.com/'), false)).toThrow(/only https/);
    expect(() => assertUrlAllowed(new URL('http://127.0.0.1/'), true)).not.toThrow();
    expect(() => assertUrlAllowed(new URL('ftp://example.com/'), true)).toThrow(SsrfBlockedError);
  });

  it('uses a recognisable error', () => {
    try {
      assertUrlAllowed(new URL('https://10.1.2.3/'), false);
      throw new Error('not thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(SsrfBlockedError);
      expect((err as SsrfBlockedError).code).toBe('ESSRFBLOCKED');
      expect((err as Error).message).toMatch(/^ssrf blocked: 10\.1\.2\.3/);
    }
  });
});

describe('guardedLookup', () => {
  type Result = { err: NodeJS.ErrnoException | null; address: unknown; family?: number };
  const run = (allowPrivate: boolean, host: string, all: boolean) =>
    new Promise<Result>((resolve) => guardedLookup(allowPrivate)(host, { all }, (err, address, family) => resolve({ err, address, family })));

  it('rejects names that resolve to private addresses, with and without `all`', async () => {
    for (const all of [false, true]) {
      const { err } = await run(false, 'localhost', all);
      expect(err).toBeInstanceOf(SsrfBlockedError);
      expect(err?.code).toBe('ESSRFBLOCKED');
      expect(err?.message).toMatch(/ssrf blocked: localhost resolves to/);
    }
  });

  it('passes public results through in both callback shapes', async () => {
    expect(await run(false, '8.8.8.8', false)).toEqual({ err: null, address: '8.8.8.8', family: 4 });
    expect(await run(false, '8.8.8.8', true)).toEqual({ err: null, address: [{ address: '8.8.8.8', family: 4 }], family: undefined });
  });

  it('allows everything when private networks are allowed', async () => {
    const { err, address } = await run(true, 'localhost', true);
    expect(err).toBeNull();
    expect(Array.isArray(address) && address.length).toBeGreaterThan(0);
  });

  describe('as the lookup of net.connect', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer((s) => s.end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => promisify(server.close.bind(server))());

    const attempt = (allowPrivate: boolean, autoSelectFamily: boolean) =>
      new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const socket = connect({ host: 'localhost', port, autoSelectFamily, lookup: guardedLookup(allowPrivate) });
        socket.once('connect', () => {
          socket.destroy();
          resolve(null);
        });
        socket.once('error', resolve);
      });

    it.each([true, false])('blocks the connection (autoSelectFamily=%s)', async (autoSelectFamily) => {
      const err = await attempt(false, autoSelectFamily);
      expect(err?.code).toBe('ESSRFBLOCKED');
    });

    it('connects when private networks are allowed', async () => {
      expect(await attempt(true, true)).toBeNull();
    });
  });
});
