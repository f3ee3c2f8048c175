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

const CURSOR_IDS = { uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, serial: /^[0-9]{1,18}$/ };

/** A cursor this API issued, or a 400; `idKind` is the type of the sort key's id column. */
export function decodeCursor(raw: string | undefined, idKind: keyof typeof CURSOR_IDS = 'uuid'): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof c?.t === 'string' && typeof c?.id === 'string' && isTimestamp(c.t) && CURSOR_IDS[idKind].test(c.id)) return { t: c.t, id: c.id };
  } catch {
    // fall through
  }
  throw new BadRequest('invalid-cursor', 'page_cursor is not a cursor this API issued.');
}

/** An RFC 3339 timestamp that names a real instant (no 30 February, no hour 25). */
export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.exec(value);
  if (!m) return false;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const probe = new Date(Date.UTC(y, mo - 1, d));
  return probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d && h < 24 && mi < 60 && s < 60 && y >= 1;
}
