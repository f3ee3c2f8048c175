import { Module } from '@nestjs/common';
import { DecisionRelay } from './decision-relay.service';
import { RelayMetrics } from './relay-metrics';

@Module({ providers: [DecisionRelay, RelayMetrics], exports: [DecisionRelay] })
export class RelayModule {}
