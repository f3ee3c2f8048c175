import { parseTimestamp } from './pagination';

/** PostgreSQL's text form of a timestamptz: `0050-06-01 00:00:00+00`, `2026-11-29 04:30:00.123456+05:30`. */
const PG_TIMESTAMPTZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-]\d{2})(?::?(\d{2}))?$/;

/**
 * A timestamptz as a driver gives it (a Date, or the database's text), read exactly. `new Date()`
 * misreads the text form of years 1-99 (`0050-...` becomes 1950); every year the API accepts
 * (1-9999) comes back as it went in.
 */
export function fromDatabaseTime(value: Date | string): Date {
  if (value instanceof Date) return value;
  const m = PG_TIMESTAMPTZ.exec(value);
  const exact = m && parseTimestamp(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${m[8]}:${m[9] ?? '00'}`);
  return exact || new Date(value);
}
