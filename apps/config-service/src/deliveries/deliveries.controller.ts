import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { ApiAuthenticatedProblems, ApiProblems, PageQueryDto, pageLimit, UuidParam } from '@app/http-common';
import { DeliveryAttemptListResponse, TestSendDto, TestSendResponse } from '../events/events.dto';
import { DeliveriesService } from './deliveries.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v2/webhooks')
@RequireRoles('developer')
@ApiAuthenticatedProblems(404)
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send one test event to this webhook only' })
  @ApiAcceptedResponse({ type: TestSendResponse })
  @ApiProblems(409)
  test(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string, @Body() dto: TestSendDto) {
    return this.deliveries.sendTest(p, id, dto.event_type);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Delivery attempts of this webhook, newest first' })
  @ApiOkResponse({ type: DeliveryAttemptListResponse })
  list(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string, @Query() q: PageQueryDto) {
    return this.deliveries.attempts(p, id, pageLimit(q), q.page_cursor);
  }
}
