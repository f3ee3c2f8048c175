import { register } from 'prom-client';

/**
 * A process-wide Prometheus metric, on prom-client's default registry, registered once per process
 * (a second registration under the same name throws). Only for state that is process-wide itself
 * (the long-lived loops' health); an app's metrics register on its injected `Registry`.
 */
export function registeredMetric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}
