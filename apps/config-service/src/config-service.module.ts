import { Module, OnModuleInit } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { NatsConnection } from 'nats';
import { AuthModule } from '@app/auth';
import { SecretsModule } from '@app/crypto';
import { ObservabilityModule, Readiness } from '@app/http-common';
import { InjectNats, NatsModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';
import { DashboardController } from './dashboard/dashboard.controller';
import { EventTypesController } from './event-types/event-types.controller';
import { WebhooksModule } from './webhooks/webhooks.module';
import { ApprovalDecisionsModule } from './approvals/approval-decisions.module';
import { EventsModule } from './events/events.module';
import { ClusterModule } from './cluster/cluster.module';

@Module({
  imports: [PersistenceModule, NatsModule, AuthModule, ObservabilityModule, SecretsModule, WebhooksModule, EventsModule, ApprovalDecisionsModule, ClusterModule],
  controllers: [EventTypesController, DashboardController],
})
export class ConfigServiceModule implements OnModuleInit {
  constructor(
    private readonly readiness: Readiness,
    private readonly em: EntityManager,
    @InjectNats() private readonly nc: NatsConnection,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', () => this.em.getConnection().execute('select 1'));
    this.readiness.register('nats', () => {
      if (this.nc.isClosed()) throw new Error('closed');
      return this.nc.flush();
    });
  }
}

