import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, JetStreamManager, nanos, NatsConnection } from 'nats';
import { APPLY_DECISIONS_CONSUMER, APPROVAL_DECIDED_SUBJECT, ensureApprovalsStream, STREAM_APPROVALS } from '@app/approvals-contract';
import { AppConfig } from '@app/config';
import { consumerNotFound, InjectNats, JetStreamServer } from '@app/messaging';

/**
 * The JetStream transport that feeds DecisionController: one durable pull consumer shared by every
 * config-service instance (the applier's idempotency makes a redelivery harmless). Connected to the
 * app in main.ts (`app.connectMicroservice`); stopped with the module, before the NATS connection
 * drains, so a decision in progress still gets its ack.
 */
@Injectable()
export class DecisionTransport implements OnModuleDestroy {
  readonly server: JetStreamServer;

  constructor(@InjectNats() nc: NatsConnection, config: AppConfig) {
    const replicas = config.streamReplicas;
    this.server = new JetStreamServer(nc, [
      {
        pattern: APPROVAL_DECIDED_SUBJECT,
        stream: STREAM_APPROVALS,
        consumer: APPLY_DECISIONS_CONSUMER,
        loop: 'approval-decisions',
        ensure: (jsm) => ensureDecisionConsumer(jsm, replicas),
      },
    ]);
  }

  async onModuleDestroy(): Promise<void> {
    await this.server.close();
  }
}

async function ensureDecisionConsumer(jsm: JetStreamManager, replicas: number): Promise<void> {
  await ensureApprovalsStream(jsm, replicas);
  try {
    await jsm.consumers.info(STREAM_APPROVALS, APPLY_DECISIONS_CONSUMER);
  } catch (err) {
    if (!consumerNotFound(err)) throw err;
    await jsm.consumers.add(STREAM_APPROVALS, {
      durable_name: APPLY_DECISIONS_CONSUMER,
      filter_subject: APPROVAL_DECIDED_SUBJECT,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(30_000),
      max_deliver: -1,
      max_ack_pending: 256,
    });
  }
}
