import { Webhook } from 'standardwebhooks';
import { generateSigningSecret, signPayload, hashToken, maskSecret, signingKey, signWithKey } from '.';

describe('signatures', () => {
  it('verify with the standardwebhooks package', () => {
    const secret = generateSigningSecret();
    const body = JSON.stringify({ id: 'e1', type: 'identity.approved' });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'e1', 'webhook-timestamp': String(ts), 'webhook-signature': signPayload(secret, 'e1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'e1', type: 'identity.approved' });
    expect(() => new Webhook(generateSigningSecret()).verify(body, headers)).toThrow();
  });

  it('the delivery path (a key decoded once) signs what the standardwebhooks package verifies', () => {
    const secret = generateSigningSecret();
    const key = signingKey(secret);
    const ts = Math.floor(Date.now() / 1000);
    for (const body of ['{}', JSON.stringify({ id: 'e2', note: 'ünïcode ✓' })]) {
      const headers = { 'webhook-id': 'e2', 'webhook-timestamp': String(ts), 'webhook-signature': signWithKey(key, 'e2', ts, body) };
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      expect(headers['webhook-signature']).toBe(signPayload(secret, 'e2', ts, body));
    }
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
