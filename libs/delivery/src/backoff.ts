/** Retry schedule: exponential backoff with jitter, first retry about 5 s, give up 24 h after the first attempt. */

export const FIRST_RETRY_MS = 5_000;
export const BACKOFF_FACTOR = 2;
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Delay before retry number `attempt` (1 = the first retry): base * factor^(attempt-1), with
 * +/-50% jitter (so the first retry lands in [2.5 s, 7.5 s)), never above MAX_RETRY_DELAY_MS.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // Clamp the exponent first so huge attempt numbers cannot overflow to Infinity.
  const base = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_MS * BACKOFF_FACTOR ** Math.min(n - 1, 30));
  return Math.min(MAX_RETRY_DELAY_MS, Math.round(base * (0.5 + random())));
}

const IMF_OR_RFC850 = /^[A-Za-z]{3,9}, [0-9]{2}[ -][A-Za-z]{3}[ -][0-9]{2,4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/;
const ASCTIME = /^[A-Za-z]{3} [A-Za-z]{3} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$/;

/** A Retry-After header (delta-seconds or HTTP-date) in ms from `now`, capped; undefined if absent or invalid. */
export function parseRetryAfter(header: string | undefined, now: number = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^[0-9]+$/.test(value)) return Math.min(MAX_RETRY_DELAY_MS, Number(value) * 1000);
  // Date.parse alone accepts far too much ("1" is a year), so only the three HTTP-date forms pass.
  let at = NaN;
  if (IMF_OR_RFC850.test(value)) at = Date.parse(value);
  else if (ASCTIME.test(value)) at = Date.parse(`${value} GMT`); // asctime has no zone but means UTC
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, at - now));
}

/**
 * When to make retry number `attempt` after a failure at `now`, or null when that would fall after
 * firstAttemptAt + RETRY_WINDOW_MS (the delivery is then FAILED). A Retry-After can lengthen the
 * delay but not shorten it below the backoff.
 */
export function nextAttemptAt(firstAttemptAt: number, attempt: number, now: number, retryAfterMs?: number, random: () => number = Math.random): number | null {
  const delay = Math.max(retryDelayMs(attempt, random), Math.min(retryAfterMs ?? 0, MAX_RETRY_DELAY_MS));
  const at = now + delay;
  return at > firstAttemptAt + RETRY_WINDOW_MS ? null : at;
}
