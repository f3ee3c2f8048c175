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
