import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome } from './delivery/delivery-item';

/** Prometheus metrics of one delivery node, on the app's registry. */
@Injectable()
export class DeliveryMetrics {
  readonly attempts: Counter<'result'>;
  readonly attemptLatency: Histogram;
  readonly endToEnd: Histogram;
  readonly failed: Counter;
  readonly cancelled: Counter;
  readonly fannedOut: Counter;
  readonly tasks: Counter;
  readonly claimedTasks: Counter;
  readonly deadLetters: Counter<'reason'>;
  readonly recovered: Counter;
  readonly retriesClaimed: Counter;
  readonly parked: Counter;
  readonly waitedForIndex: Counter;
  readonly reconciled: Counter;
  readonly mailboxTasksDrained: Counter;
  readonly dueBacklog: Gauge;
  readonly ownedPartitions: Gauge;
  readonly sendBudget: Gauge;
  readonly sendsInFlight: Gauge;
  readonly fanoutPlan: Histogram;
  readonly eventLoopLag: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    this.attempts = new Counter({ name: 'webhook_delivery_attempts_total', help: 'Delivery attempts by result', labelNames: ['result'], registers });
    this.attemptLatency = new Histogram({
      name: 'webhook_delivery_attempt_seconds',
      help: 'Latency of one delivery attempt',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'webhook_event_to_delivery_seconds',
      help: 'From the event time to its successful delivery',
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.failed = counter('webhook_deliveries_failed_total', 'Deliveries given up after 24 hours of retries');
    this.cancelled = counter('webhook_deliveries_cancelled_total', 'Deliveries dropped because the webhook was deleted or inactive');
    this.fannedOut = counter('webhook_events_fanned_out_total', 'Events recorded and fanned out');
    this.tasks = counter('webhook_delivery_tasks_published_total', 'Delivery tasks published by fan-out');
    this.claimedTasks = counter(
      'webhook_delivery_tasks_claimed_total',
      "Deliveries fan-out recorded claimed and handed to this node's own lanes (their partition is consumed here)",
    );
    this.deadLetters = new Counter({ name: 'webhook_events_dead_lettered_total', help: 'Events kept aside on events-dead.>', labelNames: ['reason'], registers });
    this.recovered = counter('webhook_events_recovered_total', 'Events the fan-out audit found taken off the events stream without being recorded, and fanned out');
    this.retriesClaimed = counter('webhook_retries_claimed_total', 'Due deliveries taken from the retry queue');
    this.parked = counter('webhook_deliveries_parked_total', 'Deliveries sent to the due-time queue because their webhook or account held enough in memory');
    this.waitedForIndex = counter('webhook_deliveries_waited_for_index_total', 'Deliveries deferred because this node did not know their webhook yet');
    this.reconciled = counter('webhook_deliveries_reconciled_total', 'Deliveries re-driven because nothing held them (task lost)');
    this.mailboxTasksDrained = counter(
      'webhook_mailbox_tasks_drained_total',
      'Delivery tasks moved from the mailboxes of gone delivery nodes to the due-time queue (node routing)',
    );
    this.dueBacklog = gauge('webhook_due_backlog', 'Deliveries past their due time in the due-time queue of the partitions this node owns (its backlog)');
    this.ownedPartitions = gauge('webhook_owned_partitions', 'Partitions this node delivers');
    this.sendBudget = gauge('webhook_send_budget', 'Sends this node lets be in flight at once, learnt from its event-loop lag');
    this.sendsInFlight = gauge('webhook_sends_in_flight', 'Sends started and not yet answered');
    // The two figures that explain most of the publish-to-delivery time of a node that keeps up.
    this.fanoutPlan = new Histogram({
      name: 'webhook_fanout_plan_seconds',
      help: 'Fan-out of one batch of events up to the first send: checking, matching and recording events and deliveries (one statement unless a bad event is split off)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.eventLoopLag = gauge('webhook_event_loop_lag_seconds', "How late this node's event loop ran its last 100 ms tick (work that was ready waited about as long)");
  }

  observe(outcome: AttemptOutcome): void {
    this.attempts.inc({ result: outcome.success ? 'success' : outcome.statusCode ? `http_${Math.floor(outcome.statusCode / 100)}xx` : 'error' });
    this.attemptLatency.observe(outcome.latencyMs / 1000);
  }

  publishToDelivery(eventTime: string): void {
    const ms = Date.now() - Date.parse(eventTime);
    if (ms >= 0) this.endToEnd.observe(ms / 1000);
  }
}
