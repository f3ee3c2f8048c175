import { PassThrough, Readable } from 'node:stream';
import { BodyPrefix, readCapped } from './capped-body';

describe('readCapped', () => {
  it('keeps the first max bytes without splitting a character', async () => {
    await expect(readCapped(Readable.from([Buffer.from('é'.repeat(10))]), 5)).resolves.toBe('éé');
    await expect(readCapped(Readable.from([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')]), 5)).resolves.toBe('abcde');
  });

  it('makes the text storable: invalid UTF-8, NUL and encoded lone surrogates are replaced', async () => {
    const text = await readCapped(Readable.from([Buffer.from([0x61, 0x00, 0xff, 0xed, 0xa0, 0x80, 0x62])]), 100);
    expect(text).not.toContain('\u0000');
    expect(text).not.toMatch(/[\ud800-\udfff]/);
    expect(text.startsWith('a')).toBe(true);
    expect(text.endsWith('b')).toBe(true);
  });

  it('drains a small body to its end (the connection can be reused)', async () => {
    const body = Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(1000, 'x')));
    await expect(readCapped(body, 10)).resolves.toBe('x'.repeat(10));
    expect(body.readableEnded).toBe(true);
    expect(body.destroyed).toBe(true); // autoDestroy after the end, not cut
  });

  it('cuts off an endless body past the drain limit', async () => {
    const body = new PassThrough();
    const writer = setInterval(() => body.write(Buffer.alloc(16 * 1024, 'y')), 1);
    try {
      await expect(readCapped(body, 4)).resolves.toBe('yyyy');
      expect(body.destroyed).toBe(true);
      expect(body.readableEnded).toBe(false);
    } finally {
      clearInterval(writer);
    }
  });

  it('a body that fails half way rejects and leaves what it had read in kept', async () => {
    const body = new PassThrough();
    const kept = new BodyPrefix(100);
    const read = readCapped(body, 100, kept);
    const seen = new Promise((resolve) => body.once('data', resolve));
    body.write(Buffer.from('partial'));
    await seen;
    body.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    await expect(read).rejects.toThrow('other side closed');
    expect(kept.text()).toBe('partial');
  });
});
