import { headers, JetStreamClient, PubAck } from 'nats';
import type { EventMessage } from './event-message';
import { eventSubject } from './names';

/**
 * Publishes one event to `events.<type>` with `Nats-Msg-Id` = event id, so a retried publish is
 * stored once. Await many of these together for throughput.
 */
export function publishEvent(js: JetStreamClient, event: EventMessage): Promise<PubAck> {
  const h = headers();
  h.set('Nats-Msg-Id', event.id);
  return js.publish(eventSubject(event.type), JSON.stringify(event), { headers: h });
}
