import { Logger } from '@nestjs/common';
import { loopRestarts, loopUp, unwatchLoop, watchLoop } from './loop-health';

/** What one run of a supervised loop gets from its supervisor. */
export interface LoopSession {
  /** Call once the loop is really running (consumer attached, initial snapshot loaded): it counts as up from then on. */
  ready(): void;
  /** Registers how to end this run from outside (stop a consumer, a watch); called on stop(). */
  onStop(fn: () => void): void;
  /** True once stop() was called. */
  readonly stopping: boolean;
}

export interface SupervisedLoopOptions {
  minBackoffMs?: number;
  /**
   * Longest wait between two runs (default {@link MAX_BACKOFF_MS}). It is also how long a loop may
   * stay down after what it depends on is back: the wait is chosen during the outage.
   */
  maxBackoffMs?: number;
  /** A run that stayed up this long resets the backoff. */
  healthyAfterMs?: number;
  /** No log line of its own: for loops that come by the hundred, whose owner logs a summary (see `downForMs`, `lastError`). */
  quiet?: boolean;
}

/**
 * Default longest wait between two runs. Short, because a loop waiting out a long backoff keeps a
 * consumer down after NATS is back (after a NATS server rejoined its cluster, its JetStream groups
 * took 15-35 s to elect leaders again; with a 30 s cap some partitions stayed unconsumed up to 30 s
 * beyond that). A retry is one request; a loop logs a failure at most once a minute.
 */
export const MAX_BACKOFF_MS = 4000;
/** A loop that keeps failing logs again at most this often. */
const REPEAT_LOG_MS = 60_000;

/**
 * Runs a long-lived consumer or watch and starts it again whenever it ends or throws, with
 * exponential backoff, a log line, `webhook_loop_restarts_total` and `webhook_loop_up`. While it
 * is down it shows in readiness (see loopsDown). `run` should resolve or reject when its
 * consumer/watch ends; it is never run twice at once.
 */
export class SupervisedLoop {
  private readonly logger: Logger;
  private stopping = false;
  private isUp = false;
  /** Runs that ended or failed since the loop was last ready (0 while it runs well). */
  private streak = 0;
  private error?: string;
  /** Since when it has not been running (started and not ready yet, or waiting to run again). */
  private downSince?: number;
  /** When it last logged a failure: at most one a minute, also for a loop that flaps. */
  private loggedAt = -Infinity;
  private stopHooks: (() => void)[] = [];
  private wake?: () => void;
  private done?: Promise<void>;
  private firstReady!: Promise<void>;
  private resolveFirstReady!: () => void;

  constructor(
    readonly name: string,
    private readonly run: (session: LoopSession) => Promise<unknown>,
    private readonly opts: SupervisedLoopOptions = {},
  ) {
    this.logger = new Logger(`Loop ${name}`);
    this.firstReady = new Promise((r) => (this.resolveFirstReady = r));
  }

  get up(): boolean {
    return this.isUp;
  }

  /** Ended or failed since it was last ready, and not running now: it is waiting to try again. */
  get failing(): boolean {
    return this.streak > 0 && !this.isUp;
  }

  /** How long it has been started but not running (a first run not ready yet counts), or undefined while it runs or is stopped. */
  downForMs(now = Date.now()): number | undefined {
    return this.isUp || this.downSince === undefined ? undefined : now - this.downSince;
  }

  /** Why the last run ended ('ended' or 'failed: <message>'), while `failing`. */
  get lastError(): string | undefined {
    return this.failing ? this.error : undefined;
  }

  /** Starts supervising; resolves once the first run is ready (or the loop is stopped). */
  start(): Promise<void> {
    if (this.done) return this.firstReady;
    this.stopping = false;
    this.streak = 0;
    this.downSince = Date.now();
    this.firstReady = new Promise((r) => (this.resolveFirstReady = r));
    watchLoop(this);
    this.done = this.supervise();
    return this.firstReady;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const fn of this.stopHooks.splice(0)) {
      try {
        fn();
      } catch {
        /* already ended */
      }
    }
    this.wake?.();
    await this.done;
    this.done = undefined;
    this.isUp = false;
    this.streak = 0;
    this.downSince = undefined;
    unwatchLoop(this);
    this.resolveFirstReady();
  }

  private setUp(value: boolean): void {
    this.isUp = value;
    loopUp.set({ loop: this.name }, value ? 1 : 0);
  }

  private async supervise(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? MAX_BACKOFF_MS;
    const healthyAfter = this.opts.healthyAfterMs ?? 30_000;
    let backoff = min;
    while (!this.stopping) {
      let readyAt = 0;
      const isStopping = () => this.stopping;
      const session: LoopSession = {
        ready: () => {
          if (this.stopping) return;
          readyAt = Date.now();
          if (this.streak > 1 && !this.opts.quiet) this.logger.log(`running again after ${this.streak} restarts`);
          this.streak = 0;
          this.downSince = undefined;
          this.setUp(true);
          this.resolveFirstReady();
        },
        onStop: (fn) => {
          if (this.stopping) fn();
          else this.stopHooks.push(fn);
        },
        get stopping() {
          return isStopping();
        },
      };
      let why: string;
      try {
        await this.run(session);
        why = 'ended';
      } catch (err) {
        why = `failed: ${(err as Error)?.message ?? String(err)}`;
      }
      this.stopHooks = [];
      this.setUp(false);
      this.downSince ??= Date.now();
      if (this.stopping) break;
      if (readyAt && Date.now() - readyAt >= healthyAfter) backoff = min;
      loopRestarts.inc({ loop: this.name });
      this.streak++;
      this.error = why;
      const now = Date.now();
      if (!this.opts.quiet && now - this.loggedAt >= REPEAT_LOG_MS) {
        this.loggedAt = now;
        this.logger.warn(this.streak === 1 ? `${why}; restarting in ${backoff} ms` : `${why}; ${this.streak} failures in a row, retrying at most ${max} ms apart`);
      }
      await new Promise<void>((resolve) => {
        // Jittered, so loops that failed together (hundreds of partitions when NATS did) do not retry in step.
        const timer = setTimeout(resolve, backoff * (0.8 + Math.random() * 0.2));
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
      backoff = Math.min(max, backoff * 2);
    }
  }
}

/**
 * Runs a start-up step until it succeeds (NATS may still be electing a leader, Postgres may be
 * restarting), with the same backoff as a loop restart (so at most MAX_BACKOFF_MS after the
 * dependency is back) and a log line per failure; errors that
 * `isFatal` says no retry can fix (a misconfiguration) are thrown at once.
 */
export async function untilDone<T>(what: string, step: () => Promise<T>, isFatal: (err: unknown) => boolean = () => false, maxBackoffMs = MAX_BACKOFF_MS): Promise<T> {
  const logger = new Logger('StartUp');
  for (let backoff = 250; ; backoff = Math.min(maxBackoffMs, backoff * 2)) {
    try {
      return await step();
    } catch (err) {
      if (isFatal(err)) throw err;
      logger.warn(`${what} failed, retrying in ${backoff} ms: ${(err as Error)?.message ?? String(err)}`);
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}
