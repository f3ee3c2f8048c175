import { Module } from '@nestjs/common';
import { ApprovalRecordsModule } from '../approvals/approval-records.module';
import { OutboxModule } from '../outbox/outbox.module';
import { WebhookStore } from './webhook-store';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [OutboxModule, ApprovalRecordsModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookStore],
  exports: [WebhooksService, WebhookStore],
})
export class WebhooksModule {}
