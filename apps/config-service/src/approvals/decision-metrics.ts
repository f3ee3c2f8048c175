import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

@Injectable()
export class DecisionMetrics {
  private readonly applied: Counter<'result'>;

  constructor(registry: Registry) {
    this.applied = new Counter({
      name: 'approval_decisions_applied_total',
      help: 'Approval decisions handled by the config service, by result',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  countApplied(result: string): void {
    this.applied.inc({ result });
  }
}
