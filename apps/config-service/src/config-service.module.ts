import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { AppConfigModule, LoggingModule, type PlatformEnv } from '@app/config';
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
export class ConfigServiceModule {
  /** The app with its configuration, validated once by the caller. */
  static forConfig(config: PlatformEnv): DynamicModule {
    return { module: ConfigServiceModule, imports: [AppConfigModule.forConfig(config)] };
  }
}
