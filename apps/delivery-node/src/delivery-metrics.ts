import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { registeredMetric as metric } from '@app/metrics';
import type { AttemptOutcome } from './delivery/delivery-item';

/** Prometheus metrics of one delivery node. */
@Injectable()
export class DeliveryMetrics {
  readonly attempts = metric(
    'webhook_delivery_attempts_total',
    () => new Counter({ name: 'webhook_delivery_attempts_total', help: 'Delivery attempts by result', labelNames: ['result'] }),
  );
  readonly attemptLatency = metric(
    'webhook_delivery_attempt_seconds',
    () => new Histogram({ name: 'webhook_delivery_attempt_seconds', help: 'Latency of one delivery attempt', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }),
  );
  readonly endToEnd = metric(
    'webhook_event_to_delivery_seconds',
    () =>
      new Histogram({
        name: 'webhook_event_to_delivery_seconds',
        help: 'From the event time to its successful delivery',
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      }),
  );
  readonly failed = metric(
    'webhook_deliveries_failed_total',
    () => new Counter({ name: 'webhook_deliveries_failed_total', help: 'Deliveries given up after 24 hours of retries' }),
  );
  readonly cancelled = metric(
    'webhook_deliveries_cancelled_total',
    () => new Counter({ name: 'webhook_deliveries_cancelled_total', help: 'Deliveries dropped because the webhook was deleted or inactive' }),
  );
  readonly fannedOut = metric('webhook_events_fanned_out_total', () => new Counter({ name: 'webhook_events_fanned_out_total', help: 'Events recorded and fanned out' }));
  readonly tasks = metric(
    'webhook_delivery_tasks_published_total',
    () => new Counter({ name: 'webhook_delivery_tasks_published_total', help: 'Delivery tasks published by fan-out' }),
  );
  readonly deadLetters = metric(
    'webhook_events_dead_lettered_total',
    () => new Counter({ name: 'webhook_events_dead_lettered_total', help: 'Events kept aside on events-dead.>', labelNames: ['reason'] }),
  );
  readonly retriesClaimed = metric(
    'webhook_retries_claimed_total',
    () => new Counter({ name: 'webhook_retries_claimed_total', help: 'Due deliveries taken from the retry queue' }),
  );
  readonly parked = metric(
    'webhook_deliveries_parked_total',
    () => new Counter({ name: 'webhook_deliveries_parked_total', help: 'Deliveries sent to the due-time queue because their webhook or account held enough in memory' }),
  );
  readonly waitedForIndex = metric(
    'webhook_deliveries_waited_for_index_total',
    () => new Counter({ name: 'webhook_deliveries_waited_for_index_total', help: 'Deliveries deferred because this node did not know their webhook yet' }),
  );
  readonly reconciled = metric(
    'webhook_deliveries_reconciled_total',
    () => new Counter({ name: 'webhook_deliveries_reconciled_total', help: 'Deliveries re-driven because nothing held them (task lost)' }),
  );
  readonly dueBacklog = metric(
    'webhook_due_backlog',
    () => new Gauge({ name: 'webhook_due_backlog', help: 'Deliveries waiting in the due-time queue of the partitions this node owns' }),
  );
  readonly ownedPartitions = metric('webhook_owned_partitions', () => new Gauge({ name: 'webhook_owned_partitions', help: 'Partitions this node delivers' }));

  observe(outcome: AttemptOutcome): void {
    this.attempts.inc({ result: outcome.success ? 'success' : outcome.statusCode ? `http_${Math.floor(outcome.statusCode / 100)}xx` : 'error' });
    this.attemptLatency.observe(outcome.latencyMs / 1000);
  }

  publishToDelivery(eventTime: string): void {
    const ms = Date.now() - Date.parse(eventTime);
    if (ms >= 0) this.endToEnd.observe(ms / 1000);
  }
}
