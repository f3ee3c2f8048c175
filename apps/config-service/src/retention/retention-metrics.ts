import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Pruned } from './retention-pruner';

@Injectable()
export class RetentionMetrics {
  private readonly pruned: Counter<'table'>;
  private readonly lastRun: Gauge;

  constructor(registry: Registry) {
    this.pruned = new Counter({ name: 'webhook_retention_pruned_total', help: 'Rows removed by retention, by table', labelNames: ['table'], registers: [registry] });
    this.lastRun = new Gauge({ name: 'webhook_retention_last_run_timestamp_seconds', help: 'When retention last completed a run (unix seconds)', registers: [registry] });
  }

  countPruned(result: Pruned): void {
    for (const [table, n] of Object.entries(result)) this.pruned.inc({ table }, n);
    this.lastRun.set(Date.now() / 1000);
  }
}
