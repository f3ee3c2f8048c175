import { BadRequest } from '@app/domain';
import { decodeCursor, encodeCursor, pageLimit } from './pagination';

describe('page limits', () => {
  it('default to 100 and take the number given', () => {
    expect(pageLimit({})).toBe(100);
    expect(pageLimit({ limit: '1' })).toBe(1);
    expect(pageLimit({ limit: '100' })).toBe(100);
  });
});

describe('page cursors', () => {
  const id = '0b7f6f0e-2f7a-4d7e-9a53-8a0e6c1d2b3c';

  it('round-trip the sort key of the last row, the time normalised to UTC', () => {
    expect(decodeCursor(encodeCursor({ t: '2026-01-01T12:00:00.000Z', id }))).toEqual({ t: '2026-01-01T12:00:00.000Z', id });
    expect(decodeCursor(encodeCursor({ t: '2026-01-01T13:00:00+01:00', id }))).toEqual({ t: '2026-01-01T12:00:00.000Z', id });
    expect(decodeCursor(encodeCursor({ t: '2026-01-01T12:00:00Z', id: '42' }), 'serial')).toEqual({ t: '2026-01-01T12:00:00.000Z', id: '42' });
  });

  it('absent or empty means the first page', () => {
    expect(decodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'garbage!'],
    ['JSON that is not an object', Buffer.from('42').toString('base64url')],
    ['an impossible time', encodeCursor({ t: '2026-02-30T00:00:00Z', id })],
    ['an id of the wrong kind', encodeCursor({ t: '2026-01-01T00:00:00Z', id: '42' })],
    ['an id with SQL in it', encodeCursor({ t: '2026-01-01T00:00:00Z', id: `${id}' or 1=1` })],
  ])('refuses %s with a 400 invalid-cursor', (_what, raw) => {
    expect(() => decodeCursor(raw)).toThrow(BadRequest);
    expect(() => decodeCursor(raw)).toThrow(expect.objectContaining({ code: 'invalid-cursor', meta: { errors: [expect.objectContaining({ field: 'page_cursor' })] } }));
  });

  it('a serial cursor refuses a UUID id, and the other way round', () => {
    expect(() => decodeCursor(encodeCursor({ t: '2026-01-01T00:00:00Z', id }), 'serial')).toThrow(BadRequest);
  });
});
