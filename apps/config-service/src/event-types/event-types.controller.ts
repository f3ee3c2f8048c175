import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_TYPE_GROUPS } from '@app/domain';
import { ApiAuthenticatedProblems } from '@app/http-common';
import { EventTypeCatalogueResponse } from './event-types.dto';

@ApiTags('event-types')
@ApiBearerAuth()
@Controller('v2/event-types')
@ApiAuthenticatedProblems()
export class EventTypesController {
  @Get()
  @ApiOperation({ summary: 'The catalogue of event types, grouped' })
  @ApiOkResponse({ type: EventTypeCatalogueResponse })
  list() {
    return { groups: EVENT_TYPE_GROUPS };
  }
}
