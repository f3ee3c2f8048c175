import type { EventEmitter } from 'node:events';
import type { Server } from 'node:net';

/**
 * Resolves once `predicate` holds for the requests a test consumer has recorded (checked now and
 * after every 'request' event); rejects after `timeoutMs` saying what arrived, or when the
 * predicate throws.
 */
export function waitForRequests<R extends { method: string; path: string; body?: string }>(
  events: EventEmitter,
  requests: R[],
  predicate: (reqs: R[]) => boolean,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      let done: boolean;
      try {
        done = predicate(requests);
      } catch (err) {
        finish();
        return reject(err instanceof Error ? err : new Error(String(err)));
      }
      if (done) {
        finish();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      finish();
      const last = requests.slice(-3).map((r) => `${r.method} ${r.path}${r.body ? ` ${r.body.slice(0, 200)}` : ''}`);
      reject(new Error(`waitFor: condition not met within ${timeoutMs} ms; ${requests.length} request(s) received${last.length ? `, last: ${last.join(' | ')}` : ''}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      events.off('request', check);
    };
    events.on('request', check);
    check();
  });
}

/** Closes a test server at once: pending answer timers cleared, every open socket destroyed. */
export async function closeNow(server: Server, sockets: Iterable<{ destroy(): void }>, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const t of timers) clearTimeout(t);
  timers.clear();
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const s of sockets) s.destroy();
  await done;
}
