/** How far the database's and NATS's clocks may disagree (node routing: see DeliveryReconciler.oldestTask). */
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
