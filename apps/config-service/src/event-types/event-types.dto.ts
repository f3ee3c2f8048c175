import { ApiProperty } from '@nestjs/swagger';

class EventTypeDto {
  @ApiProperty({ example: 'identity.approved' }) type!: string;
  @ApiProperty({ example: 'identity_summary_status_change' }) object_type!: string;
}

class EventTypeGroupDto {
  @ApiProperty({ example: 'Identity' }) group!: string;
  @ApiProperty({ type: [EventTypeDto] }) event_types!: EventTypeDto[];
}

export class EventTypeCatalogueResponse {
  @ApiProperty({ type: [EventTypeGroupDto] }) groups!: EventTypeGroupDto[];
}
