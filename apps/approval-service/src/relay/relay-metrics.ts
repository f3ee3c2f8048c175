import { Counter } from 'prom-client';
import { registeredMetric } from '@app/http-common';

const NAME = 'approval_decisions_relayed_total';

const relayed = registeredMetric(NAME, () => new Counter({ name: NAME, help: 'Concluded webhook approval requests handed to the config service over NATS' }));

export function countRelayed(n: number): void {
  relayed.inc(n);
}
