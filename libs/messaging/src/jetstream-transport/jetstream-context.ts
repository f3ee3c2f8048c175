import { BaseRpcContext } from '@nestjs/microservices';
import type { JsMsg } from 'nats';

/** What a JetStream handler gets besides the payload: the message itself (subject, headers, delivery count). */
export class JetStreamContext extends BaseRpcContext<[JsMsg]> {
  constructor(msg: JsMsg) {
    super([msg]);
  }

  getMessage(): JsMsg {
    return this.args[0];
  }

  /** 1 on the first delivery, 2 on the first redelivery, ... (kept by the server, so it survives restarts). */
  getDeliveryCount(): number {
    return this.args[0].info.deliveryCount;
  }
}
