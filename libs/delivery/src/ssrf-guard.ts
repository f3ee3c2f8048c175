import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';

/** Outbound requests may only reach public addresses unless the operator allows private networks. */
export class SsrfBlockedError extends Error {
  readonly code = 'ESSRFBLOCKED';
  constructor(
    readonly host: string,
    readonly address: string | undefined,
    reason: string,
  ) {
    super(`ssrf blocked: ${reason}`);
    this.name = 'SsrfBlockedError';
  }
}

const v4 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", incl. unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. broadcast 255.255.255.255
] as const) {
  v4.addSubnet(net, bits, 'ipv4');
}

const v6 = new BlockList();
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback, deprecated IPv4-compatible
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo (embeds an obfuscated IPv4)
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) {
  v6.addSubnet(net, bits, 'ipv6');
}

/** 16 bytes of an IPv6 address (zone id and dotted IPv4 tail allowed), or null. */
function ipv6Bytes(ip: string): Uint8Array | null {
  let s = ip.split('%')[0];
  if (isIP(s) !== 6) return null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const q = s
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    s = `${s.slice(0, lastColon + 1)}${((q[0] << 8) | q[1]).toString(16)}:${((q[2] << 8) | q[3]).toString(16)}`;
  }
  let groups: string[];
  if (s.includes('::')) {
    const [head, tail] = s.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  } else {
    groups = s.split(':');
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[2 * i] = n >> 8;
    bytes[2 * i + 1] = n & 0xff;
  });
  return bytes;
}

const dotted = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const startsWith = (b: Uint8Array, prefix: number[]) => prefix.every((x, i) => b[i] === x);

/**
 * True for anything but a public unicast address: loopback, unspecified, RFC 1918, CGNAT, link-local,
 * unique-local, multicast, broadcast, reserved and documentation ranges, and IPv6 forms that embed
 * such an IPv4 address (mapped, NAT64, 6to4). Also true for anything that is not an IP (fail closed).
 */
export function isForbiddenAddress(ip: string): boolean {
  const addr = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (isIP(addr) === 4) return v4.check(addr, 'ipv4');
  const b = ipv6Bytes(addr);
  if (!b) return true;
  if (startsWith(b, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) return v4.check(dotted(b, 12), 'ipv4'); // ::ffff:a.b.c.d
  if (startsWith(b, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return v4.check(dotted(b, 12), 'ipv4'); // NAT64
  if (startsWith(b, [0x20, 0x02])) return v4.check(dotted(b, 2), 'ipv4'); // 6to4
  const canonical = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16)).join(':');
  return v6.check(canonical, 'ipv6');
}

/** Throws SsrfBlockedError when `host` is an IP literal that may not be reached. Names pass (checked at lookup). */
export function assertHostAllowed(host: string, allowPrivate: boolean): void {
  const addr = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!allowPrivate && isIP(addr) !== 0 && isForbiddenAddress(addr)) {
    throw new SsrfBlockedError(host, addr, `${addr} is not a public address`);
  }
}

/**
 * Checks a target URL before any connection: https only (plain http only when private networks are
 * allowed, i.e. development and tests), and literal IPs must be public; net.connect never calls
 * `lookup` for an IP literal, so guardedLookup alone would miss them.
 */
export function assertUrlAllowed(url: URL, allowPrivate: boolean): void {
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw new SsrfBlockedError(url.hostname, undefined, `${url.protocol} URLs are not allowed, only https:`);
  }
  assertHostAllowed(url.hostname, allowPrivate);
}

/**
 * A `lookup` for net/tls.connect (and undici's connect options): resolves with dns.lookup and fails
 * with SsrfBlockedError if any resolved address is not public. Honours `all` (used by Node's
 * autoSelectFamily) and single-address callers alike.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  if (allowPrivate) return dnsLookup;
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) return callback(err, options.all ? [] : '');
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      if (bad || addresses.length === 0) {
        const reason = bad ? `${hostname} resolves to ${bad.address}, which is not a public address` : `${hostname} has no address`;
        return callback(new SsrfBlockedError(hostname, bad?.address, reason), options.all ? [] : '');
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
