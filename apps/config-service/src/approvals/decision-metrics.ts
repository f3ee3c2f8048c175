import { Counter, register } from 'prom-client';

const NAME = 'approval_decisions_applied_total';

/** Registered once per process (tests run several apps in one process). */
const applied =
  (register.getSingleMetric(NAME) as Counter<'result'> | undefined) ??
  new Counter({ name: NAME, help: 'Approval decisions handled by the config service, by result', labelNames: ['result'] });

export function countApplied(result: string): void {
  applied.inc({ result });
}
