import type { JsMsg } from 'nats';

export type Settlement = 'ack' | 'nak' | 'term' | 'working';

/**
 * Acks, naks, terms or extends a JetStream message without ever throwing. nats.js throws from all
 * four once the connection is closed or draining (a shutdown, a closed connection), and they are
 * called from timers and promise callbacks where a throw would end the process. Losing one is
 * harmless: the server hands the message out again after its ack wait, and every consumer of ours
 * takes a message twice without sending twice. Returns whether the server was told.
 */
export function settleMessage(msg: Pick<JsMsg, Settlement>, how: Settlement, delayMs?: number): boolean {
  try {
    if (how === 'nak') msg.nak(delayMs);
    else msg[how]();
    return true;
  } catch {
    return false;
  }
}
