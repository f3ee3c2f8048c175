import { Counter } from 'prom-client';
import { registeredMetric } from '@app/http-common';

const NAME = 'approval_decisions_applied_total';

const applied = registeredMetric(NAME, () => new Counter({ name: NAME, help: 'Approval decisions handled by the config service, by result', labelNames: ['result'] }));

export function countApplied(result: string): void {
  applied.inc({ result });
}
