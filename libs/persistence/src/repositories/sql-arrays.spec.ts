import { boolArray, intArray, textArray, timestampArray, uuidArray } from './sql-arrays';

describe('array literals for batch statements', () => {
  it('builds the literal PostgreSQL reads for each type', () => {
    expect(uuidArray(['0b6c3c8e-1d2a-4d1e-9f00-0123456789ab', 'FFFFFFFF-1D2A-4D1E-9F00-0123456789AB'])).toBe(
      '{0b6c3c8e-1d2a-4d1e-9f00-0123456789ab,FFFFFFFF-1D2A-4D1E-9F00-0123456789AB}',
    );
    expect(intArray([1, -2, null, 2 ** 40])).toBe('{1,-2,NULL,1099511627776}');
    expect(boolArray([true, false])).toBe('{t,f}');
    expect(timestampArray([new Date(Date.UTC(2026, 10, 28, 23, 0, 1, 5)), null])).toBe('{2026-11-28T23:00:01.005Z,NULL}');
    expect(textArray(['ok', null, 'NULL', 'a "b" \\c', ''])).toBe('{"ok",NULL,"NULL","a \\"b\\" \\\\c",""}');
    expect([uuidArray([]), intArray([]), boolArray([]), timestampArray([]), textArray([])]).toEqual(['{}', '{}', '{}', '{}', '{}']);
  });

  // The class: text from outside reaching an array literal unescaped could end an element and add
  // others. Every value that is not of the type's shape is refused instead.
  it.each([
    ['a uuid with a comma', () => uuidArray(['0b6c3c8e-1d2a-4d1e-9f00-0123456789a,'])],
    ['a uuid-long text with a brace', () => uuidArray(['0b6c3c8e-1d2a-4d1e-9f00-0123456789}b'])],
    ['a uuid with a quote', () => uuidArray(['"b6c3c8e-1d2a-4d1e-9f00-0123456789ab'])],
    ['a NULL smuggled as a uuid', () => uuidArray(['NULL'])],
    ['not a string', () => uuidArray([42 as unknown as string])],
    ['a fraction', () => intArray([1.5])],
    ['NaN', () => intArray([NaN])],
    ['a numeric string', () => intArray(['1,2' as unknown as number])],
    ['an invalid date', () => timestampArray([new Date('nope')])],
    ['a number as text', () => textArray([1 as unknown as string])],
    ['a time as text', () => timestampArray(['2026-11-28,NULL' as unknown as Date])],
  ])('refuses %s', (_, build) => {
    expect(build).toThrow(TypeError);
  });
});
