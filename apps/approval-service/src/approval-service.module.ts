import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { AppConfigModule, LoggingModule, type PlatformEnv } from '@app/config';
import { ObservabilityModule } from '@app/http-common';
import { LoopsReadiness, NatsModule, NatsReadiness } from '@app/messaging';
import { DatabaseReadiness, PersistenceModule } from '@app/persistence';
import { PoliciesModule } from './policies/policies.module';
import { ApprovalsModule } from './requests/approvals.module';

@Module({
  imports: [
    LoggingModule,
    PersistenceModule,
    NatsModule,
    AuthModule,
    ObservabilityModule.forRoot({ readiness: [DatabaseReadiness, NatsReadiness, LoopsReadiness] }),
    PoliciesModule,
    ApprovalsModule,
  ],
})
export class ApprovalServiceModule {
  /** The app with its configuration, validated once by the caller. */
  static forConfig(config: PlatformEnv): DynamicModule {
    return { module: ApprovalServiceModule, imports: [AppConfigModule.forConfig(config)] };
  }
}
