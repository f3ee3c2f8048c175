import { DynamicModule, Global, Inject, Module, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HealthController } from './health.controller';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { Readiness, ReadinessProbe } from './readiness';

const PROBES = Symbol('READINESS_PROBES');

/** The app's own registry, so two apps in one process (as in tests) never share or clash on a metric. */
function appRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * GET /health/live, GET /health (readiness, run by terminus) and GET /metrics (the app's prom-client
 * registry, injected as `Registry`, on which every metric of the app registers), and API request
 * metrics (see HttpMetrics).
 * `forRoot({ readiness })` names the probe classes the app's data libraries export; the app may
 * `Readiness.register` more of its own.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [Readiness, HttpMetrics, { provide: Registry, useFactory: appRegistry }, { provide: PROBES, useValue: [] }],
  exports: [Readiness, HttpMetrics, Registry],
})
export class ObservabilityModule {
  constructor(readiness: Readiness, @Inject(PROBES) probes: ReadinessProbe[]) {
    for (const probe of probes) readiness.add(probe);
  }

  static forRoot(options: { readiness: Type<ReadinessProbe>[] }): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [{ provide: PROBES, useFactory: (...probes: ReadinessProbe[]) => probes, inject: options.readiness }],
    };
  }
}
