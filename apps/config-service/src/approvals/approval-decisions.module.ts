import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DecisionApplier } from './decision-applier';
import { DecisionConsumer } from './decision-consumer';

/** Applies decided approval requests that arrive over NATS from the approval service. */
@Module({
  imports: [WebhooksModule, OutboxModule],
  providers: [DecisionApplier, DecisionConsumer],
})
export class ApprovalDecisionsModule {}
