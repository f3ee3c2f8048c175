import { Module } from '@nestjs/common';
import { ApprovalRequestsRepository } from '@app/persistence';
import { DecisionRelay } from './decision-relay.service';

@Module({ providers: [DecisionRelay, ApprovalRequestsRepository], exports: [DecisionRelay] })
export class RelayModule {}
