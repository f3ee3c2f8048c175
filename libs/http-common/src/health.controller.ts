import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '@app/auth';
import { DomainError } from '@app/domain';
import { LivenessDto, ReadinessDto } from './health.dto';
import { ApiProblems } from './openapi';
import { Readiness } from './readiness';

/**
 * Liveness and readiness, run by terminus. Readiness keeps this API's body (`status`, `checks`)
 * and adds terminus' `info`, `error` and `details`; when a probe fails it is a 503 problem document
 * naming the failed probes, like every other refusal of this API.
 */
@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiOkResponse({ type: LivenessDto })
  async live(): Promise<LivenessDto> {
    const result = await this.health.check([]);
    return { status: 'ok', info: result.info ?? {}, error: result.error ?? {}, details: result.details };
  }

  @Get()
  @ApiOperation({ summary: 'Readiness: every dependency and long-lived loop is up' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiProblems(503)
  async ready(): Promise<ReadinessDto> {
    const checks: Record<string, string> = {};
    const probes = this.readiness.names().map((name) => async (): Promise<HealthIndicatorResult> => {
      const state = (checks[name] = await this.readiness.probe(name));
      const indicator = this.indicators.check(name);
      return state === 'ok' ? indicator.up() : indicator.down({ message: state });
    });
    try {
      const result = await this.health.check(probes);
      return { status: 'ok', checks, info: result.info ?? {}, error: result.error ?? {}, details: result.details };
    } catch {
      // All probes passing and still refused: terminus says the app is shutting down.
      const detail = Object.values(checks).every((s) => s === 'ok') ? 'shutting down' : `not ready: ${JSON.stringify(checks)}`;
      throw new DomainError('unavailable', 'service-unavailable', 'Service unavailable', detail, { checks });
    }
  }
}
