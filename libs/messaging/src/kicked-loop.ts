import { loopRestarts, loopUp, unwatchLoop, watchLoop } from './loop-health';

/**
 * Runs `pass` after every kick and on a timer, never two passes at once; a kick that arrives during
 * a pass earns exactly one more. The shape of every outbox relay and due-time scanner here: kicks
 * keep latency low, the timer makes an outage only a delay. A named loop shows in readiness and
 * metrics (`webhook_loop_up`) as down while its last pass failed.
 */
export class KickedLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastPassOk = true;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (err: Error) => void,
    readonly name?: string,
  ) {}

  get up(): boolean {
    return this.lastPassOk;
  }

  start(): void {
    this.stopped = false;
    if (this.name) watchLoop(this as { name: string; up: boolean });
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.kick();
  }

  kick(): void {
    if (this.stopped || !this.timer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .then(
        () => this.setOk(true),
        (err) => {
          this.setOk(false);
          this.onError(err);
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    if (this.name) unwatchLoop(this as { name: string; up: boolean });
  }

  private setOk(ok: boolean): void {
    this.lastPassOk = ok;
    if (!this.name) return;
    loopUp.set({ loop: this.name }, ok ? 1 : 0);
    if (!ok) loopRestarts.inc({ loop: this.name });
  }
}
