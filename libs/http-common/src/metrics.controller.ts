import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { register, Registry } from 'prom-client';
import { Public } from '@app/auth';

@ApiTags('operations')
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text', schema: { type: 'string', example: 'http_request_duration_seconds_count{method="GET",route="/v2/webhooks",status="200"} 3' } })
  async metrics(@Res() res: Response): Promise<void> {
    // Plus the process's default registry: process-wide metrics (loop health) and any not yet moved to the app's.
    const all = Registry.merge([this.registry, register]);
    res.type(all.contentType).send(await all.metrics());
  }
}
