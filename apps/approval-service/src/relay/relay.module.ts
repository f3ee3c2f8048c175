import { Module } from '@nestjs/common';
import { ApprovalRequestsRepository } from '@app/persistence';
import { DecisionRelay } from './decision-relay.service';
import { RelayMetrics } from './relay-metrics';

@Module({ providers: [DecisionRelay, ApprovalRequestsRepository, RelayMetrics], exports: [DecisionRelay] })
export class RelayModule {}
