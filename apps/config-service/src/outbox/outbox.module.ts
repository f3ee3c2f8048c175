import { Module } from '@nestjs/common';
import { WebhookOutboxRepository } from '@app/persistence';
import { OutboxRelay } from './outbox-relay.service';

@Module({ providers: [OutboxRelay, WebhookOutboxRepository], exports: [OutboxRelay] })
export class OutboxModule {}
