import { AttemptDeadlines, StoppedError } from './attempt-deadlines';

describe('AttemptDeadlines', () => {
  it('aborts an attempt once its bound has passed, at the first tick after it, and skips ended ones', () => {
    let now = 1_000;
    const wheel = new AttemptDeadlines(500, 100, () => now);
    const first = wheel.start();
    now += 200;
    const second = wheel.start();
    const ended = wheel.start();
    const heard: string[] = [];
    first.addEventListener('abort', () => heard.push('first'));
    second.addEventListener('abort', () => heard.push('second'));
    ended.addEventListener('abort', () => heard.push('ended'));
    wheel.end(ended);
    now += 299;
    wheel.tick();
    expect(heard).toEqual([]);
    now += 1;
    wheel.tick();
    expect(heard).toEqual(['first']);
    expect(first.aborted).toBe(true);
    expect(first.reason?.message).toBe('timeout');
    now += 200;
    wheel.tick();
    expect(heard).toEqual(['first', 'second']);
    expect(ended.aborted).toBe(false);
    expect(wheel.size).toBe(0);
    wheel.close();
  });

  it('aborts a guarded attempt at the first tick where its guard says no, with a StoppedError; unguarded ones run on', () => {
    let now = 0;
    const wheel = new AttemptDeadlines(10_000, 100, () => now);
    let may = true;
    const guarded = wheel.start(() => may);
    const free = wheel.start();
    now = 100;
    wheel.tick();
    expect(guarded.aborted).toBe(false);
    may = false;
    now = 200;
    wheel.tick();
    expect(guarded.aborted).toBe(true);
    expect(guarded.reason).toBeInstanceOf(StoppedError);
    expect(free.aborted).toBe(false);
    now = 10_000;
    wheel.tick();
    expect(free.reason?.message).toBe('timeout');
    wheel.close();
  });

  // The class: an ended attempt's signal waits in the deadline queue for up to the attempt timeout;
  // if it kept its listener, every request handler of the last 10 s (and the response bytes each
  // kept) would stay in memory with it.
  it('an ended attempt lets go of its listener at once, though its signal waits for its deadline', () => {
    let now = 0;
    const deadlines = new AttemptDeadlines(10_000, 100, () => now);
    const signal = deadlines.start();
    let called = 0;
    signal.addEventListener('abort', () => called++);
    deadlines.end(signal);
    expect(deadlines.size).toBe(1); // still queued
    expect((signal as unknown as { listener?: unknown }).listener).toBeUndefined();
    now = 20_000;
    deadlines.tick();
    expect(called).toBe(0);
    expect(deadlines.size).toBe(0);
  });

  it('a removed listener is not called', () => {
    let now = 0;
    const wheel = new AttemptDeadlines(10, 100, () => now);
    const signal = wheel.start();
    const listener = jest.fn();
    signal.addEventListener('abort', listener);
    signal.removeEventListener('abort', listener);
    now = 10;
    wheel.tick();
    expect(signal.aborted).toBe(true);
    expect(listener).not.toHaveBeenCalled();
    wheel.close();
  });
});
