import type { DeliveryTask } from '@app/messaging';

/** How one send ended, as the recorder writes it. */
export interface AttemptOutcome {
  success: boolean;
  statusCode?: number;
  error?: string;
  latencyMs: number;
  responseExcerpt?: string;
  retryAfterMs?: number;
}

/** A delivery waiting in a node's memory for its webhook's turn. */
export interface DeliveryItem {
  task: DeliveryTask;
  partition: number;
  /** Attempts already made (from the delivery row; 0 for a fresh task). */
  attemptsBefore: number;
  firstAttemptAt?: number;
  /**
   * When the database handed it out (ms, the database's clock), for a claim from the due-time queue:
   * its attempt starts after this, which the recorder compares with a redelivery's request time on
   * the same clock.
   */
  takenAt?: number;
  /** Set once an OAuth token was refreshed after a 401 for this delivery. */
  tokenRefreshed?: boolean;
  /** Called once the item's fate is durable (or it was handed back); the source then acks. */
  settle(): void;
  /** Called when the item is handed back undelivered (ownership lost, shutdown: at once; an unexpected error: after `delayMs`). */
  release(delayMs?: number): void;
}

export function itemKey(task: Pick<DeliveryTask, 'event_id' | 'webhook_id'>): string {
  return `${task.event_id}:${task.webhook_id}`;
}
