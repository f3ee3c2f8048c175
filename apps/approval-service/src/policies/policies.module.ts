import { Module } from '@nestjs/common';
import { RequestsStoreModule } from '../requests/requests-store.module';
import { PoliciesController } from './policies.controller';
import { PoliciesService } from './policies.service';
import { PolicyStore } from './policy-store';

@Module({
  imports: [RequestsStoreModule],
  controllers: [PoliciesController],
  providers: [PoliciesService, PolicyStore],
  exports: [PolicyStore],
})
export class PoliciesModule {}
