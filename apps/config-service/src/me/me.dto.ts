import { ApiProperty } from '@nestjs/swagger';

/** Who the token belongs to. */
export class MeResponse {
  @ApiProperty() account_id!: string;
  @ApiProperty({ example: 'acme' }) account_name!: string;
  @ApiProperty({ example: 'alice' }) user!: string;
  @ApiProperty({ type: [String], example: ['developer'] }) roles!: string[];
}
