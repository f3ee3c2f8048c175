import { ApiProperty } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

const INDICATOR: SchemaObject = { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string' } }, required: ['status'] };
const INDICATORS = { type: 'object', additionalProperties: INDICATOR } as const;

/** GET /health/live: terminus' result with no indicator (the process answers). */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status!: 'ok';

  @ApiProperty({ ...INDICATORS, example: {} })
  info!: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, example: {} })
  error!: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, example: {} })
  details!: Record<string, unknown>;
}

/** GET /health when ready: each probe's state in `checks`, and terminus' indicator results. */
export class ReadinessDto extends LivenessDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { database: 'ok', nats: 'ok', loops: 'ok' } })
  checks!: Record<string, string>;
}
