import { nextAttemptAt } from '@app/delivery';
import type { AttemptOutcome } from './delivery-item';

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** What one attempt's outcome makes of its delivery. */
export type AttemptDecision =
  /** Recorded with this status and next attempt time (null unless PENDING). */
  | { kind: 'record'; status: DeliveryStatus; next: Date | null }
  /** The endpoint refused the OAuth token: recorded as PENDING, then sent once more at once with a fresh token. */
  | { kind: 'retry-with-fresh-token' };

export interface AttemptContext {
  /** Attempts made before this one. */
  attemptsBefore: number;
  /** When the first attempt was made (undefined: this was the first). */
  firstAttemptAt?: number;
  /** The endpoint said 401 to a cached OAuth token and this delivery has not had a fresh one yet. */
  authExpired?: boolean;
  now: number;
  random?: () => number;
}

/**
 * The decision "attempt outcome -> next state of the delivery", free of I/O: a 2xx succeeds; a
 * 401 to a cached OAuth token gets one more send with a fresh token; any other failure (a 4xx or
 * 5xx status, a timeout, a transport error) is retried with backoff, later if the consumer's
 * Retry-After asks for it, until 24 h after the first attempt, and then FAILED.
 */
export function decideAfterAttempt(outcome: Pick<AttemptOutcome, 'success' | 'retryAfterMs'>, ctx: AttemptContext): AttemptDecision {
  if (ctx.authExpired) return { kind: 'retry-with-fresh-token' };
  if (outcome.success) return { kind: 'record', status: 'SUCCEEDED', next: null };
  const next = nextAttemptAt(ctx.firstAttemptAt ?? ctx.now, ctx.attemptsBefore + 1, ctx.now, outcome.retryAfterMs, ctx.random);
  return next === null ? { kind: 'record', status: 'FAILED', next: null } : { kind: 'record', status: 'PENDING', next: new Date(next) };
}
