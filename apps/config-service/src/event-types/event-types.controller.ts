import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_TYPE_GROUPS } from '@app/domain';

@ApiTags('event-types')
@ApiBearerAuth()
@Controller('v2/event-types')
export class EventTypesController {
  @Get()
  @ApiOperation({ summary: 'The catalogue of event types, grouped' })
  list() {
    return { groups: EVENT_TYPE_GROUPS };
  }
}
