import { Counter, Gauge } from 'prom-client';
import { registeredMetric as metric } from '@app/metrics';

export const loopUp = metric(
  'webhook_loop_up',
  () => new Gauge({ name: 'webhook_loop_up', help: '1 while a long-lived consumer, watch, relay or scanner is running, 0 while it is down', labelNames: ['loop'] }),
);
export const loopRestarts = metric(
  'webhook_loop_restarts_total',
  () =>
    new Counter({
      name: 'webhook_loop_restarts_total',
      help: 'Long-lived consumers and watches restarted after they ended or failed, and relay or scanner passes that failed',
      labelNames: ['loop'],
    }),
);

/** Something long-lived whose health readiness reports. */
export interface WatchedLoop {
  readonly name: string;
  readonly up: boolean;
}

const watched = new Set<WatchedLoop>();

export function watchLoop(loop: WatchedLoop): void {
  watched.add(loop);
  loopUp.set({ loop: loop.name }, loop.up ? 1 : 0);
}

export function unwatchLoop(loop: WatchedLoop): void {
  watched.delete(loop);
  // A loop of the same name may have taken over (a partition owned again): its gauge stays.
  if (![...watched].some((l) => l.name === loop.name)) loopUp.remove({ loop: loop.name });
}

/** Names of the started loops that are down right now (not running, not ready yet, or their last pass failed). */
export function loopsDown(): string[] {
  return [...watched].filter((l) => !l.up).map((l) => l.name);
}
