/**
 * NATS names of the approval flow. The approval service publishes every decided webhook request to
 * the stream (`Nats-Msg-Id` = request id); the config service applies it from a durable consumer.
 */
export const STREAM_APPROVALS = 'APPROVALS';
export const APPROVALS_SUBJECT_PREFIX = 'approvals.';
export const APPROVAL_DECIDED_SUBJECT = 'approvals.decided.webhooks';
export const APPLY_DECISIONS_CONSUMER = 'config-service-apply-decisions';
