import { parseRawHeaders } from './response-collector';

describe('parseRawHeaders', () => {
  it('lower-cases names, reads values as latin1, and keeps repeats in order', () => {
    const raw = ['Retry-After', '5', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'X-Odd', '\xe9\x00'].map((s) => Buffer.from(s, 'latin1'));
    expect(parseRawHeaders(raw)).toEqual({ 'retry-after': '5', 'set-cookie': ['a=1', 'b=2'], 'x-odd': '\xe9\x00' });
  });

  it('gives a header named like an Object property no special meaning', () => {
    const parsed = parseRawHeaders(['__proto__', 'x', 'constructor', 'y'].map((s) => Buffer.from(s)));
    expect(Object.entries(parsed)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });
});
