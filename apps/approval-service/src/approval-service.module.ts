import { Module } from '@nestjs/common';
import { AuthModule } from '@app/auth';
import { AppConfigModule, LoggingModule } from '@app/config';
import { ObservabilityModule } from '@app/http-common';
import { LoopsReadiness, NatsModule, NatsReadiness } from '@app/messaging';
import { DatabaseReadiness, PersistenceModule } from '@app/persistence';
import { PoliciesModule } from './policies/policies.module';
import { ApprovalsModule } from './requests/approvals.module';

@Module({
  imports: [
    AppConfigModule.forApp('approval-service'),
    LoggingModule,
    PersistenceModule,
    NatsModule,
    AuthModule,
    ObservabilityModule.forRoot({ readiness: [DatabaseReadiness, NatsReadiness, LoopsReadiness] }),
    PoliciesModule,
    ApprovalsModule,
  ],
})
export class ApprovalServiceModule {}
