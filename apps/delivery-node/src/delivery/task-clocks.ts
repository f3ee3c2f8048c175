import type { NatsConnection } from 'nats';
import { STREAM_DELIVERIES } from '@app/messaging';

/** How far the database's and NATS's clocks may disagree (node routing: see noTaskLeftBefore). */
export const CLOCK_MARGIN_MS = 5000;
/**
 * Node routing: a task message stored by NATS at most this long after its rows were written (the
 * message's timestamp against its `recorded_at`, the same two clocks the reconciler compares) cannot
 * have had its rows re-driven while it waited: the reconciler re-drives only rows written more than
 * CLOCK_MARGIN_MS before the stream's oldest message, so, while this message is in the stream, more
 * than that before it. Its first copy is sent unchecked. Half the margin: the other half covers
 * the NATS servers' clocks differing between themselves (a leader change).
 */
export const FIRST_COPY_WINDOW_MS = CLOCK_MARGIN_MS / 2;

/**
 * Node routing: rows written before this time can have no task left in the deliveries stream. A task
 * is published after its row is written, so no task of a row written before the stream's oldest
 * message can still be in it (less CLOCK_MARGIN_MS, as the database and NATS clocks may differ).
 *
 * Whatever makes a never-scheduled row due while another copy of its task may still be on its way
 * (the reconciler, a node given a rechecked copy for a partition it does not hold, the mailbox
 * janitor draining one) makes due only rows written before this: a first copy sent unchecked (see
 * FIRST_COPY_WINDOW_MS) is then never sent a second time by the retry scanner. A row written later
 * is left to the copy on its way, or, if that copy was lost, to the reconciler once it is older.
 */
export async function noTaskLeftBefore(nc: NatsConnection): Promise<Date> {
  const { state } = await (await nc.jetstreamManager()).streams.info(STREAM_DELIVERIES);
  return new Date((state.messages ? Date.parse(state.first_ts) : Date.now()) - CLOCK_MARGIN_MS);
}
