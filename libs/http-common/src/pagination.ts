import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BadRequest } from '@app/domain';

/** `?limit=1..100&page_cursor=` as every list endpoint takes them. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 100 })
  @IsOptional()
  @Matches(/^(100|[1-9][0-9]?)$/, { message: 'limit must be an integer from 1 to 100' })
  limit?: string;

  @ApiPropertyOptional({ description: 'next_page_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  page_cursor?: string;
}

export function pageLimit(q: { limit?: string }): number {
  return q.limit === undefined ? 100 : Number(q.limit);
}

/** Opaque keyset cursors: base64url of the sort key of the last row returned. */
export interface Cursor {
  t: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof c?.t === 'string' && typeof c?.id === 'string' && !Number.isNaN(Date.parse(c.t))) return { t: c.t, id: c.id };
  } catch {
    // fall through
  }
  throw new BadRequest('invalid-cursor', 'page_cursor is not a cursor this API issued.');
}
