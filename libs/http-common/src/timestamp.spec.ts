import { decodeCursor, encodeCursor, isTimestamp, parseTimestamp } from './pagination';

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00.123456789Z', '2026-01-01T00:00:00.123Z'],
    ['2026-01-01T01:30:00+01:30', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00-23:59', '2026-01-01T23:59:00.000Z'],
    ['2024-02-29T12:00:00z', '2024-02-29T12:00:00.000Z'],
    ['0050-06-01T00:00:00Z', '0050-06-01T00:00:00.000Z'],
  ])('%s is %s', (raw, iso) => {
    expect(parseTimestamp(raw)?.toISOString()).toBe(iso);
  });

  // Each was accepted by the old check and became an Invalid Date or out of range downstream.
  it.each([
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00+00:60',
    '2026-01-01T00:00:00+99:99',
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:60Z',
    '0001-01-01T00:00:00+01:00',
    '9999-12-31T23:59:59-01:00',
    '0000-01-01T00:00:00Z',
    '2026-01-01',
    '2026-01-01T00:00:00',
    '+275760-09-13T00:00:00Z',
    12,
    null,
  ])('%s names no instant both JS and PostgreSQL hold', (raw) => {
    expect(parseTimestamp(raw)).toBeUndefined();
    expect(isTimestamp(raw)).toBe(false);
  });

  it('every timestamp it accepts survives a round trip through Date', () => {
    for (let i = 0; i < 2000; i++) {
      const y = 1 + ((i * 7919) % 9999);
      const raw = `${String(y).padStart(4, '0')}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 31)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00${i % 2 ? '+' : '-'}${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
      const t = parseTimestamp(raw);
      if (t) expect(Number.isFinite(new Date(t.toISOString()).getTime())).toBe(true);
    }
  });

  it('a cursor carries a normalised instant, and a forged one with a bad instant is refused', () => {
    const id = '6ace2eca-95eb-4945-a0ab-ba2bee72fc79';
    expect(decodeCursor(encodeCursor({ t: '2026-01-01T01:00:00+01:00', id }))).toEqual({ t: '2026-01-01T00:00:00.000Z', id });
    expect(() => decodeCursor(encodeCursor({ t: '2026-01-01T00:00:00+24:00', id }))).toThrow(/cursor/);
  });
});
