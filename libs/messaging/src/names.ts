import { createHash } from 'node:crypto';

/** NATS names that are part of the platform's contract or shared between apps. */
export const STREAM_EVENTS = 'EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'events.';
export const STREAM_EVENTS_DEAD = 'EVENTS_DEAD';
export const EVENTS_DEAD_SUBJECT_PREFIX = 'events-dead.';
export const STREAM_DELIVERIES = 'DELIVERIES';
export const DELIVERIES_SUBJECT_PREFIX = 'deliveries.';

export const KV_WEBHOOKS = 'webhooks';
export const KV_DELIVERY_NODES = 'delivery-nodes';
/** One lease per delivery node, renewed while it lives (bucket TTL = the lease's life). */
export const KV_NODE_LEASES = 'node-leases';
/** Each partition's holder and the node lease it holds it under; written only when ownership changes. */
export const KV_PARTITION_OWNERS = 'partition-owners';
/** Where releases before node leases kept one renewed lease per partition; a node waits while any is live. */
export const KV_PARTITION_LEASES_BEFORE_NODE_LEASES = 'partition-leases';
export const KV_CLUSTER = 'delivery-cluster';

export const FANOUT_CONSUMER = 'fanout';

export function eventSubject(type: string): string {
  return `${EVENTS_SUBJECT_PREFIX}${type}`;
}

export function deliverySubject(partition: number): string {
  return `${DELIVERIES_SUBJECT_PREFIX}${partition}`;
}

export const DELIVERY_CONSUMER_PREFIX = 'deliver-';

export function deliveryConsumer(partition: number): string {
  return `${DELIVERY_CONSUMER_PREFIX}${partition}`;
}

/** Node routing (DELIVERY_TASK_ROUTING=node): each delivery node's mailbox of delivery tasks. */
export const MAILBOX_SUBJECT_PREFIX = `${DELIVERIES_SUBJECT_PREFIX}node.`;
export const MAILBOX_CONSUMER_PREFIX = 'mailbox-';

/**
 * A node id as one subject token and consumer-name part: the id itself when it is only letters,
 * digits, `-` and `_`; else those kept, the rest as `_`, and a digest of the id, so two ids never share one.
 */
export function mailboxToken(nodeId: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(nodeId)) return nodeId;
  return `${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}_${createHash('sha256').update(nodeId).digest('hex').slice(0, 8)}`;
}

export function mailboxSubject(nodeId: string): string {
  return `${MAILBOX_SUBJECT_PREFIX}${mailboxToken(nodeId)}`;
}

export function mailboxConsumer(nodeId: string): string {
  return `${MAILBOX_CONSUMER_PREFIX}${mailboxToken(nodeId)}`;
}
