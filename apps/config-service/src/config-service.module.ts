import { Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { AppConfigModule, LoggingModule } from '@app/config';
import { SecretsModule } from '@app/crypto';
import { ObservabilityModule } from '@app/http-common';
import { LoopsReadiness, NatsModule, NatsReadiness } from '@app/messaging';
import { DatabaseReadiness, PersistenceModule } from '@app/persistence';
import { ApprovalDecisionsModule } from './approvals/approval-decisions.module';
import { ClusterModule } from './cluster/cluster.module';
import { EventTypesController } from './event-types/event-types.controller';
import { EventsModule } from './events/events.module';
import { MeController } from './me/me.controller';
import { RetentionModule } from './retention/retention.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    AppConfigModule.forApp('config-service'),
    LoggingModule,
    PersistenceModule,
    NatsModule,
    AuthModule,
    ObservabilityModule.forRoot({ readiness: [DatabaseReadiness, NatsReadiness, LoopsReadiness] }),
    SecretsModule,
    WebhooksModule,
    EventsModule,
    ApprovalDecisionsModule,
    ClusterModule,
    RetentionModule,
  ],
  controllers: [EventTypesController, MeController],
})
export class ConfigServiceModule {}
