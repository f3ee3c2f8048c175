import { register } from 'prom-client';

/**
 * A Prometheus metric registered once per process: tests run several apps in one process, and a
 * second registration under the same name throws.
 */
export function registeredMetric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}
