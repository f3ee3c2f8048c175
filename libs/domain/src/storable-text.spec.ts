import { storableText } from './storable-text';

describe('storableText', () => {
  it('replaces NUL characters and lone surrogates, keeps valid pairs', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(storableText('ok \uD83D\uDE00')).toBe('ok \uD83D\uDE00');
  });

  it('truncates without cutting a surrogate pair', () => {
    expect(storableText('ab\uD83D\uDE00', 3)).toBe('ab');
    expect(storableText('abcdef', 4)).toBe('abcd');
  });

  it('always yields text that encodes to UTF-8 and back unchanged', () => {
    const nasty = String.fromCharCode(...Array.from({ length: 2000 }, (_, i) => (i * 7919) % 0x10000));
    const s = storableText(nasty);
    expect(Buffer.from(s, 'utf8').toString('utf8')).toBe(s);
    expect(s.includes('\u0000')).toBe(false);
  });
});
