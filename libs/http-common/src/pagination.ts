import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { BadRequest, UUID_PATTERN } from '@app/domain';

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

/** `next_page_cursor` of every page response: documented once. */
export const NextPageCursor = () => ApiProperty({ description: "the next page's page_cursor; empty on the last page", example: '' });

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

const CURSOR_IDS = { uuid: UUID_PATTERN, serial: /^[0-9]{1,18}$/ };

/** A cursor this API issued, or a 400; `idKind` is the type of the sort key's id column. */
export function decodeCursor(raw: string | undefined, idKind: keyof typeof CURSOR_IDS = 'uuid'): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    const t = parseTimestamp(c?.t);
    if (t && typeof c?.id === 'string' && CURSOR_IDS[idKind].test(c.id)) return { t: t.toISOString(), id: c.id };
  } catch {
    // fall through
  }
  throw new BadRequest('invalid-cursor', 'page_cursor is not a cursor this API issued.', [{ field: 'page_cursor', message: 'is not a cursor this API issued' }]);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/i;
/** Instants both JavaScript and PostgreSQL hold exactly: years 1 to 9999 in UTC. */
const EARLIEST = new Date('0001-01-01T00:00:00.000Z').getTime();
const LATEST = new Date('9999-12-31T23:59:59.999Z').getTime();

/**
 * The instant an RFC 3339 timestamp names, or undefined when it names none: no 30 February, no
 * hour 24, no offset of +24:00 or :60, nothing outside years 1-9999 once moved to UTC. Parsed
 * here rather than by `new Date()`, whose accepted set differs (the validator and the query must
 * agree, or a "valid" timestamp becomes an Invalid Date in SQL).
 */
export function parseTimestamp(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const [oh, om] = m[8] ? [0, 0] : [Number(m[10]), Number(m[11])];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return undefined;
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d); // setUTCFullYear, unlike Date.UTC, keeps years 0-99 as they are
  if (local.getUTCMonth() !== mo - 1 || local.getUTCDate() !== d) return undefined;
  local.setUTCHours(h, mi, s, ms);
  const offsetMs = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  const t = local.getTime() - offsetMs;
  return t >= EARLIEST && t <= LATEST ? new Date(t) : undefined;
}

/** An RFC 3339 timestamp that names a real instant (see parseTimestamp). */
export function isTimestamp(value: unknown): value is string {
  return parseTimestamp(value) !== undefined;
}
