import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signPayload, hashToken, maskSecret } from '.';

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
