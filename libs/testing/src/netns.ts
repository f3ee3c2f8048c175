import { ChildProcess, execFileSync, spawn, SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';

/**
 * A private network on this machine for fault tests, built from Linux network namespaces:
 *
 *   root namespace (the test process, PostgreSQL's proxy, the HTTPS consumer) -- veth --+
 *                                                                                     bridge (hub namespace)
 *   host namespace "nats1", "node1", ... (each its own veth, one address) -------------+
 *
 * Every host is a namespace with one address in a random private /24; the root namespace gets
 * `.1` (`rootAddress`), so servers the test runs in its own process listen there and every host can
 * reach them. There is no default route anywhere, so no packet leaves the namespaces the lab made.
 * Needs root (CAP_NET_ADMIN) and iproute2; `netnsUnavailable()` says why not.
 */

const PREFIX = 'wbnf';

/** The `ip` binary (in /usr/sbin, which a non-login PATH may lack). */
export const IP_BIN = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

function ip(...args: string[]): string {
  return execFileSync(IP_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    /* already gone */
  }
}

/** Why this machine cannot build a lab (undefined when it can). Checked synchronously, so a spec can skip at load time. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `${PREFIX}${process.pid}-probe`;
  try {
    ip('netns', 'add', probe);
    ip('-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
    ip('-n', probe, 'link', 'add', 'b0', 'type', 'bridge');
    return undefined;
  } catch (err) {
    return `cannot create network namespaces, veth pairs or bridges here: ${((err as { stderr?: string }).stderr || (err as Error).message).trim()}`;
  } finally {
    tryIp('netns', 'del', probe);
  }
}

/** Deletes namespaces (and with them their links) left by labs whose process is gone. */
export function removeStaleLabs(): void {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name ?? '');
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || pid === process.pid) tryIp('netns', 'del', name);
  }
}

export interface NetHost {
  name: string;
  /** The namespace's name (for `ip netns exec`). */
  ns: string;
  address: string;
  /** Starts a program inside this host's namespace. */
  spawn(command: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Pulls the cable: the bridge side of this host's link goes down (packets are lost, nothing is refused). */
  linkDown(): void;
  linkUp(): void;
  /** Drops every packet this host sends to these addresses (blackhole routes); others stay reachable. */
  block(addresses: string[]): void;
  unblock(addresses: string[]): void;
}

export interface NetLab {
  /** e.g. 10.213.7 */
  subnet: string;
  /** The root namespace's address on the lab network. */
  rootAddress: string;
  host(name: string): NetHost;
  /** Two-way partition: neither side's packets reach the other (blackhole routes on both sides). */
  partition(a: NetHost[], b: NetHost[]): void;
  heal(a: NetHost[], b: NetHost[]): void;
  /** Deletes every namespace and link of the lab (processes inside must have been stopped). */
  close(): void;
}

/** A random /24 in 10.200.0.0-10.254.255.0 that no address or route of the root namespace uses. */
function freeSubnet(): string {
  const used = ip('-4', 'route', 'show', 'table', 'all') + ip('-4', 'addr', 'show');
  for (let i = 0; i < 100; i++) {
    const subnet = `10.${randomInt(200, 255)}.${randomInt(0, 256)}`;
    if (!used.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free private /24 for the network lab');
}

export function createNetLab(): NetLab {
  removeStaleLabs();
  const tag = `${PREFIX}${process.pid}-${randomInt(0, 1 << 16).toString(16)}`;
  const hub = `${tag}-hub`;
  const rootLink = `${PREFIX}${process.pid}r`.slice(0, 15);
  const subnet = freeSubnet();
  const rootAddress = `${subnet}.1`;
  const namespaces: string[] = [];
  const hosts = new Map<string, NetHost>();
  let next = 2;

  const close = () => {
    for (const ns of namespaces.reverse()) tryIp('netns', 'del', ns);
    tryIp('link', 'del', rootLink);
  };
  try {
    ip('netns', 'add', hub);
    namespaces.push(hub);
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', hub, 'link', 'set', 'br0', 'up');
    tryIp('link', 'del', rootLink);
    ip('link', 'add', rootLink, 'type', 'veth', 'peer', 'name', 'up0', 'netns', hub);
    ip('addr', 'add', `${rootAddress}/24`, 'dev', rootLink);
    ip('link', 'set', rootLink, 'up');
    ip('-n', hub, 'link', 'set', 'up0', 'master', 'br0', 'up');
  } catch (err) {
    close();
    throw err;
  }

  const host = (name: string): NetHost => {
    const existing = hosts.get(name);
    if (existing) return existing;
    if (next > 250) throw new Error('network lab is full');
    const n = next++;
    const ns = `${tag}-${name}`;
    const address = `${subnet}.${n}`;
    const hubSide = `h${n}`;
    ip('netns', 'add', ns);
    namespaces.push(ns);
    ip('-n', hub, 'link', 'add', hubSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', hub, 'link', 'set', hubSide, 'master', 'br0', 'up');
    const h: NetHost = {
      name,
      ns,
      address,
      spawn: (command, args, opts = {}) => spawn(IP_BIN, ['netns', 'exec', ns, command, ...args], opts),
      linkDown: () => void ip('-n', hub, 'link', 'set', hubSide, 'down'),
      linkUp: () => void ip('-n', hub, 'link', 'set', hubSide, 'up'),
      block: (addresses) => addresses.forEach((a) => ip('-n', ns, 'route', 'replace', 'blackhole', `${a}/32`)),
      unblock: (addresses) => addresses.forEach((a) => tryIp('-n', ns, 'route', 'del', 'blackhole', `${a}/32`)),
    };
    hosts.set(name, h);
    return h;
  };

  return {
    subnet,
    rootAddress,
    host,
    partition(a, b) {
      for (const x of a) x.block(b.map((y) => y.address));
      for (const y of b) y.block(a.map((x) => x.address));
    },
    heal(a, b) {
      for (const x of a) x.unblock(b.map((y) => y.address));
      for (const y of b) y.unblock(a.map((x) => x.address));
    },
    close,
  };
}
