import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies/policies.module';
import { RelayModule } from '../relay/relay.module';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsService } from './approvals.service';
import { RequestsStoreModule } from './requests-store.module';

@Module({
  imports: [RequestsStoreModule, PoliciesModule, RelayModule],
  controllers: [ApprovalsController],
  providers: [ApprovalsService],
})
export class ApprovalsModule {}
