import { Counter, register } from 'prom-client';

const NAME = 'approval_decisions_relayed_total';

/** Registered once per process (tests run several apps in one process). */
const relayed =
  (register.getSingleMetric(NAME) as Counter | undefined) ??
  new Counter({ name: NAME, help: 'Concluded webhook approval requests handed to the config service over NATS' });

export function countRelayed(n: number): void {
  relayed.inc(n);
}
