import { fromDatabaseTime } from './database-time';

describe('fromDatabaseTime', () => {
  it.each([
    ['0050-06-01 00:00:00+00', '0050-06-01T00:00:00.000Z'],
    ['0001-01-01 00:00:00+00', '0001-01-01T00:00:00.000Z'],
    ['2026-11-29 04:30:00.123456+00', '2026-11-29T04:30:00.123Z'],
    ['2026-11-29 10:00:00.5+05:30', '2026-11-29T04:30:00.500Z'],
    ['9999-12-31 23:59:59.999+00', '9999-12-31T23:59:59.999Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(fromDatabaseTime(text).toISOString()).toBe(iso);
  });

  it('takes a Date as it is', () => {
    const d = new Date('0050-06-01T00:00:00Z');
    expect(fromDatabaseTime(d)).toBe(d);
  });
});
