import type { ValidEvent } from '@app/domain';

/** An event as publishers put it on `events.<type>`. */
export type EventMessage = ValidEvent;

/** One delivery of one event to one webhook, as carried on `deliveries.<partition>`. */
export interface DeliveryTask {
  event_id: string;
  webhook_id: string;
  account_id: string;
  type: string;
  time: string;
  is_test: boolean;
}

export function deliveryMsgId(eventId: string, webhookId: string): string {
  return `${eventId}:${webhookId}`;
}

/**
 * Several deliveries of one partition in one message on `deliveries.<partition>`, as fan-out
 * writes them (one per partition per fanned-out batch, not one per delivery: a stored message
 * costs the broker and the node far more than its bytes). `recheck` marks copies of deliveries
 * recorded before (an event fanned out again): the owner sends only those still waiting for a
 * first send, since an earlier copy may have been sent already.
 */
export interface DeliveryTaskBatch {
  tasks: DeliveryTask[];
  recheck?: true;
  /**
   * When the deliveries' rows were written, by the database's clock (ms since the epoch; the
   * earliest when they came from several statements). Lets a mailbox tell a first copy that cannot
   * have been re-driven yet (see the delivery node's FIRST_COPY_WINDOW_MS).
   */
  recorded_at?: number;
}
