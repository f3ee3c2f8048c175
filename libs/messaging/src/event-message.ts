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
