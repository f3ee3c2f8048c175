/** What the fan-out audit reads of the events stream and the `fanout` consumer at the start of a pass. */
export interface StreamView {
  firstSeq: number;
  lastSeq: number;
  /** The consumer's ack floor: every message at or below it has been acked (or skipped). */
  ackFloor: number;
}

export interface AuditWindow {
  /** Audit messages after this sequence; undefined: from the start time (the first pass ever). */
  after: number | undefined;
  /** Audit every message up to this sequence. */
  upTo: number;
  /**
   * The consumer's ack floor has not moved since the last pass although the stream goes beyond it
   * (whatever the consumer says it owes): past `upTo`, messages older than the stall age are
   * audited too, as far as the stream goes.
   */
  stalled: boolean;
}

/**
 * Where a pass starts and how far it goes. Behind the ack floor every event was handed to a node
 * and acked, so one not recorded was skipped; beyond it the consumer still owes the event, unless
 * its floor is stuck. A cursor outside the stream (messages aged out, or a stream made anew) is
 * brought back inside it.
 */
export function auditWindow(cursor: number | undefined, view: StreamView, previousFloor: number | undefined): AuditWindow {
  const beforeFirst = Math.max(0, view.firstSeq - 1);
  let after = cursor;
  if (after !== undefined && (after > view.lastSeq || after < beforeFirst)) after = beforeFirst;
  // No cursor yet, and nothing in the stream acked: nothing behind the floor to look for.
  if (after === undefined && view.ackFloor <= beforeFirst) after = beforeFirst;
  const stalled = previousFloor === view.ackFloor && view.ackFloor < view.lastSeq;
  return { after, upTo: view.ackFloor, stalled };
}

/** How the audit treats one message of the window. */
export type AuditVerdict = 'audit' | 'too-old' | 'stop';

/**
 * `stop` ends the pass before the message (it is audited by a later one). `too-old`: recorded events
 * this old may have been pruned by retention (1 day at the least), so re-planning one could deliver
 * it again; it is counted and left.
 */
export function auditVerdict(seq: number, ageMs: number, window: AuditWindow, limits: { stallAgeMs: number; maxAgeMs: number }): AuditVerdict {
  if (seq > window.upTo && !(window.stalled && ageMs >= limits.stallAgeMs)) return 'stop';
  return ageMs > limits.maxAgeMs ? 'too-old' : 'audit';
}
