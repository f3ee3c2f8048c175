import { DynamicModule, Global, Inject, Module, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { collectDefaultMetrics, register, Registry } from 'prom-client';
import { registeredMetric } from '@app/metrics';
import { HealthController } from './health.controller';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { Readiness, ReadinessProbe } from './readiness';

/** Kept here for the apps that import it from this library; it lives in @app/metrics. */
export { registeredMetric };

const PROBES = Symbol('READINESS_PROBES');
let defaultMetricsStarted = false;

/**
 * GET /health/live, GET /health (readiness, run by terminus) and GET /metrics (the process-wide
 * prom-client registry, injected as `Registry`), and API request metrics (see HttpMetrics).
 * `forRoot({ readiness })` names the probe classes the app's data libraries export; the app may
 * `Readiness.register` more of its own.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [Readiness, HttpMetrics, { provide: Registry, useValue: register }, { provide: PROBES, useValue: [] }],
  exports: [Readiness, HttpMetrics, Registry],
})
export class ObservabilityModule {
  constructor(readiness: Readiness, @Inject(PROBES) probes: ReadinessProbe[]) {
    for (const probe of probes) readiness.add(probe);
    if (!defaultMetricsStarted) {
      defaultMetricsStarted = true;
      collectDefaultMetrics({ register });
    }
  }

  static forRoot(options: { readiness: Type<ReadinessProbe>[] }): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [{ provide: PROBES, useFactory: (...probes: ReadinessProbe[]) => probes, inject: options.readiness }],
    };
  }
}
