import { Module } from '@nestjs/common';
import { DecisionRelay } from './decision-relay.service';

@Module({ providers: [DecisionRelay], exports: [DecisionRelay] })
export class RelayModule {}
