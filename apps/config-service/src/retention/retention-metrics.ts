import { Counter, Gauge } from 'prom-client';
import { registeredMetric } from '@app/http-common';
import type { Pruned } from './retention-pruner';

const PRUNED = 'webhook_retention_pruned_total';
const LAST_RUN = 'webhook_retention_last_run_timestamp_seconds';

const pruned = registeredMetric(PRUNED, () => new Counter({ name: PRUNED, help: 'Rows removed by retention, by table', labelNames: ['table'] }));
const lastRun = registeredMetric(LAST_RUN, () => new Gauge({ name: LAST_RUN, help: 'When retention last completed a run (unix seconds)' }));

export function countPruned(result: Pruned): void {
  for (const [table, n] of Object.entries(result)) pruned.inc({ table }, n);
  lastRun.set(Date.now() / 1000);
}
