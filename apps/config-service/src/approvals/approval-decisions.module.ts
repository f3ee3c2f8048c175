import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DecisionApplier } from './decision-applier';
import { DecisionController } from './decision-controller';
import { DecisionMetrics } from './decision-metrics';
import { DecisionTransport } from './decision-transport';

/** Applies decided approval requests that arrive over NATS from the approval service. */
@Module({
  imports: [WebhooksModule, OutboxModule],
  controllers: [DecisionController],
  providers: [DecisionApplier, DecisionTransport, DecisionMetrics],
})
export class ApprovalDecisionsModule {}
