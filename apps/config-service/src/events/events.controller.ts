import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@app/domain';
import { CurrentPrincipal, RequireRoles } from '@app/auth';
import { ApiAuthenticatedProblems, ApiProblems, pageLimit, UuidParam } from '@app/http-common';
import { EventListResponse, EventResponse, ListEventsQueryDto, RedeliverDto, RedeliverResponse } from './events.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiBearerAuth()
@Controller('v2/events')
@RequireRoles('developer')
@ApiAuthenticatedProblems()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({ summary: "The account's events" })
  @ApiOkResponse({ type: EventListResponse })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListEventsQueryDto) {
    return this.events.list(p, {
      lt: q['created_at.lt'],
      lte: q['created_at.lte'],
      eq: q['created_at.eq'],
      gte: q['created_at.gte'],
      gt: q['created_at.gt'],
      type: q.type,
      isTest: q.is_test === 'true',
      order: q.order?.toUpperCase() === 'ASC' ? 'ASC' : 'DESC',
      limit: pageLimit(q),
      cursor: q.page_cursor,
    });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One event with the number of webhooks that have not acknowledged it' })
  @ApiOkResponse({ type: EventResponse })
  @ApiProblems(404)
  get(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string) {
    return this.events.get(p, id);
  }

  @Post(':id/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver again to every subscribed webhook that has not acknowledged it, or to one webhook' })
  @ApiAcceptedResponse({ type: RedeliverResponse })
  @ApiProblems(404, 409)
  redeliver(@CurrentPrincipal() p: Principal, @Param('id', UuidParam) id: string, @Body() dto: RedeliverDto) {
    return this.events.redeliver(p, id, dto.webhook_id);
  }
}
