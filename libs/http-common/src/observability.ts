import { Controller, Get, Global, Header, Injectable, Module, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';
import { Public } from '@app/auth';
import { isDependencyUnavailable } from './dependency-errors';

type Check = () => unknown; // may return a promise

/**
 * A Prometheus metric registered once per process: tests run several apps in one process, and a
 * second registration under the same name throws.
 */
export function registeredMetric<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** Readiness checks registered by each app's modules (database, NATS, ...). */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, Check>();

  register(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  async report(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const [name, check] of this.checks) {
      try {
        await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
        checks[name] = 'ok';
      } catch (err) {
        ok = false;
        // A driver's message may name hosts and users: an outage reads 'unavailable'.
        checks[name] = isDependencyUnavailable(err) ? 'unavailable' : (err as Error).message || 'failed';
      }
    }
    return { ok, checks };
  }
}

let defaultMetricsStarted = false;

@ApiExcludeController()
@Controller()
@Public()
class ObservabilityController {
  constructor(private readonly readiness: Readiness) {}

  @Get('health')
  async health() {
    const report = await this.readiness.report();
    if (!report.ok) throw new ServiceUnavailableException(`not ready: ${JSON.stringify(report.checks)}`);
    return { status: 'ok', checks: report.checks };
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() res: Response) {
    res.type(register.contentType).send(await register.metrics());
  }
}

/** GET /health (200 when every readiness check passes) and GET /metrics (Prometheus text). */
@Global()
@Module({ controllers: [ObservabilityController], providers: [Readiness], exports: [Readiness] })
export class ObservabilityModule {
  constructor() {
    if (!defaultMetricsStarted) {
      defaultMetricsStarted = true;
      collectDefaultMetrics();
    }
  }
}
