import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { WebhookStore } from './webhook-store';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [OutboxModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookStore],
  exports: [WebhooksService, WebhookStore],
})
export class WebhooksModule {}
