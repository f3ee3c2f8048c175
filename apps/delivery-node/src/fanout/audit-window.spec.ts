import { auditVerdict, auditWindow } from './audit-window';

const view = { firstSeq: 1, lastSeq: 100, ackFloor: 80 };
const limits = { stallAgeMs: 60_000, maxAgeMs: 12 * 3600_000 };

describe('auditWindow', () => {
  it('audits from the cursor up to the ack floor while the floor moves', () => {
    expect(auditWindow(50, view, 70)).toEqual({ after: 50, upTo: 80, stalled: false });
  });

  it('starts from the start time on the first pass ever', () => {
    expect(auditWindow(undefined, view, undefined)).toEqual({ after: undefined, upTo: 80, stalled: false });
  });

  it('starts at the stream when nothing in it was acked yet (a new cluster, an empty stream)', () => {
    expect(auditWindow(undefined, { firstSeq: 0, lastSeq: 0, ackFloor: 0 }, undefined).after).toBe(0);
    expect(auditWindow(undefined, { firstSeq: 10, lastSeq: 20, ackFloor: 0 }, undefined).after).toBe(9);
  });

  it('calls a floor that has not moved while the stream goes beyond it stalled, and one at the end of the stream not', () => {
    expect(auditWindow(50, view, 80).stalled).toBe(true);
    expect(auditWindow(50, { ...view, ackFloor: 100 }, 100).stalled).toBe(false);
  });

  it('brings a cursor outside the stream back inside it', () => {
    // The stream was made anew (its sequences start again) or old messages aged out.
    expect(auditWindow(5000, view, undefined).after).toBe(0);
    expect(auditWindow(3, { ...view, firstSeq: 40 }, undefined).after).toBe(39);
    expect(auditWindow(39, { ...view, firstSeq: 40 }, undefined).after).toBe(39);
  });
});

describe('auditVerdict', () => {
  const window = { after: 50, upTo: 80, stalled: false };

  it('audits up to the floor and stops past it', () => {
    expect(auditVerdict(80, 1000, window, limits)).toBe('audit');
    expect(auditVerdict(81, 10 * 60_000, window, limits)).toBe('stop');
  });

  it('past a stalled floor, audits messages older than the stall age only', () => {
    const stalled = { ...window, stalled: true };
    expect(auditVerdict(90, 61_000, stalled, limits)).toBe('audit');
    expect(auditVerdict(91, 59_000, stalled, limits)).toBe('stop');
  });

  it('never re-plans a message older than the maximum age', () => {
    expect(auditVerdict(60, 13 * 3600_000, window, limits)).toBe('too-old');
  });
});
