import { Webhook } from 'standardwebhooks';
import { SecretBox, generateSigningSecret, signPayload, hashToken, maskSecret } from '.';

describe('SecretBox', () => {
  const box = new SecretBox(Buffer.alloc(32, 1));

  it('round-trips and never stores the plain text', () => {
    const sealed = box.encrypt('super-secret-value');
    expect(sealed).not.toContain('super-secret');
    expect(box.decrypt(sealed)).toBe('super-secret-value');
  });

  it('uses a fresh IV each time', () => {
    expect(box.encrypt('x')).not.toBe(box.encrypt('x'));
  });

  it('rejects tampered ciphertext and another key', () => {
    const sealed = box.encrypt('value');
    const parts = sealed.split(':');
    parts[3] = Buffer.from('other').toString('base64url');
    expect(() => box.decrypt(parts.join(':'))).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 2)).decrypt(sealed)).toThrow();
  });
});

describe('signatures', () => {
  it('verify with the standardwebhooks package', () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ id: 'e1', type: 'identity.approved' });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'e1', 'webhook-timestamp': String(ts), 'webhook-signature': signPayload(secret, 'e1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'e1', type: 'identity.approved' });
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow();
  });
});

describe('tokens', () => {
  it('hashes deterministically and masks all but four characters', () => {
    expect(hashToken('abc')).toBe(hashToken('abc'));
    expect(hashToken('abc')).not.toBe('abc');
    expect(maskSecret('abcdef1234')).toBe('****1234');
    expect(maskSecret('abcd')).toBe('****');
    expect(maskSecret('abcdefg')).toBe('****');
  });
});
