import { RETRY_WINDOW_MS } from '@app/delivery';
import { decideAfterAttempt } from './attempt-decision';

const now = Date.UTC(2026, 0, 1);
const half = () => 0.5; // no jitter: delay = base

describe('decideAfterAttempt', () => {
  it('a 2xx succeeds, with no next attempt', () => {
    expect(decideAfterAttempt({ success: true }, { attemptsBefore: 0, now })).toEqual({ kind: 'record', status: 'SUCCEEDED', next: null });
    // Even late in the retry window and with a Retry-After (a 2xx does not carry one that matters).
    expect(decideAfterAttempt({ success: true, retryAfterMs: 60_000 }, { attemptsBefore: 9, firstAttemptAt: now - RETRY_WINDOW_MS, now })).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('a 4xx, a 5xx, a timeout or a transport error: retried about 5 s after a first failure, doubling', () => {
    expect(decideAfterAttempt({ success: false }, { attemptsBefore: 0, now, random: half })).toEqual({ kind: 'record', status: 'PENDING', next: new Date(now + 5_000) });
    expect(decideAfterAttempt({ success: false }, { attemptsBefore: 3, firstAttemptAt: now - 60_000, now, random: half })).toEqual({
      kind: 'record',
      status: 'PENDING',
      next: new Date(now + 40_000),
    });
  });

  it('a Retry-After longer than the backoff is honoured; a shorter one does not hurry the retry', () => {
    expect(decideAfterAttempt({ success: false, retryAfterMs: 120_000 }, { attemptsBefore: 0, now, random: half })).toMatchObject({ next: new Date(now + 120_000) });
    expect(decideAfterAttempt({ success: false, retryAfterMs: 1_000 }, { attemptsBefore: 0, now, random: half })).toMatchObject({ next: new Date(now + 5_000) });
  });

  it('a failure whose retry would fall after 24 h from the first attempt is FAILED', () => {
    const firstAttemptAt = now - RETRY_WINDOW_MS + 1_000; // 1 s of the window left, the next retry is further
    expect(decideAfterAttempt({ success: false }, { attemptsBefore: 12, firstAttemptAt, now, random: half })).toEqual({ kind: 'record', status: 'FAILED', next: null });
    // A Retry-After that reaches past the window fails it too.
    expect(decideAfterAttempt({ success: false, retryAfterMs: 3_600_000 }, { attemptsBefore: 0, firstAttemptAt: now - RETRY_WINDOW_MS + 60_000, now, random: half })).toMatchObject(
      { status: 'FAILED' },
    );
  });

  it('the first attempt starts the 24 h window when none was made before', () => {
    expect(decideAfterAttempt({ success: false }, { attemptsBefore: 0, firstAttemptAt: undefined, now, random: half })).toMatchObject({ status: 'PENDING' });
  });

  it('a 401 to a cached OAuth token: one more send with a fresh token, whatever else', () => {
    expect(decideAfterAttempt({ success: false }, { attemptsBefore: 0, authExpired: true, now })).toEqual({ kind: 'retry-with-fresh-token' });
    expect(decideAfterAttempt({ success: false }, { attemptsBefore: 5, authExpired: false, now, random: half })).toMatchObject({ kind: 'record', status: 'PENDING' });
  });
});
