/** What ServerSwitch needs of a NATS connection. */
export interface Reconnectable {
  isClosed(): boolean;
  reconnect(): Promise<void>;
}

/**
 * Moves a client off a NATS server that stays connected but cannot serve JetStream: a server cut
 * from the rest of its cluster keeps its clients (their own links are fine, so they never reconnect
 * by themselves) while every KV write through it times out for want of a quorum. Its delivery nodes
 * then lose their leases and partitions to the rest for the whole cut, and take them back only once
 * the server has caught up after the heal. A node's heartbeat reports each success here and checks
 * on every beat: after `afterMs` without a success (less than the time a lease stays trusted
 * unrenewed), the client is told to reconnect, which takes it to the next server of its list (list
 * every server in NATS_URL: servers learned from the cluster are forgotten once the cut server stops
 * announcing them; behind one load-balanced address a new connection may land elsewhere); then that
 * server gets `afterMs` of its own.
 */
export class ServerSwitch {
  private lastGood: number;
  private lastCheck: number;

  constructor(
    private readonly nc: Reconnectable,
    private readonly opts: {
      afterMs: number;
      /** A longer gap between two checks is this process pausing (a stall, a stop signal), not the server failing. */
      pauseMs: number;
      onSwitch?: (silentForMs: number) => void;
      now?: () => number;
    },
  ) {
    this.lastGood = this.lastCheck = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  succeeded(): void {
    this.lastGood = this.now();
  }

  /** Called on every beat, before its write: reconnects when no write has succeeded for `afterMs`. */
  check(): void {
    const now = this.now();
    if (now - this.lastCheck > this.opts.pauseMs) this.lastGood = now; // our own silence, not the server's
    this.lastCheck = now;
    const silentFor = now - this.lastGood;
    if (this.nc.isClosed() || silentFor < this.opts.afterMs) return;
    this.lastGood = now; // the next server gets its own afterMs
    this.opts.onSwitch?.(silentFor);
    // No effect while the client is disconnected (it is reconnecting already); rejects once closed.
    this.nc.reconnect().catch(() => undefined);
  }
}
