import { createCipheriv, randomBytes } from 'node:crypto';
import { keyId, SecretBox, SecretOpenError } from './secret-box';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const HOOK_A = { owner: '11111111-1111-4111-8111-111111111111', field: 'api_key' } as const;
const HOOK_B = { owner: '22222222-2222-4222-8222-222222222222', field: 'api_key' } as const;

/** What releases before associated data wrote: `v1:<iv>:<tag>:<data>`. */
function legacyV1(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
}

describe('SecretBox', () => {
  const box = new SecretBox(OLD);

  it('round-trips, names its key, and never stores the plain text', () => {
    const sealed = box.seal('super-secret-value', HOOK_A);
    expect(sealed).not.toContain('super-secret');
    expect(sealed.split(':').slice(0, 2)).toEqual(['v2', keyId(OLD)]);
    expect(box.open(sealed, HOOK_A)).toBe('super-secret-value');
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal('x', HOOK_A)).not.toBe(box.seal('x', HOOK_A));
  });

  it('binds a secret to its webhook and field: pasted elsewhere it does not open', () => {
    const sealed = box.seal('value', HOOK_A);
    expect(() => box.open(sealed, HOOK_B)).toThrow(SecretOpenError);
    expect(() => box.open(sealed, { owner: HOOK_A.owner, field: 'signing_secret' })).toThrow(SecretOpenError);
  });

  it('rejects tampered ciphertext and a key it does not hold, without quoting the data', () => {
    const sealed = box.seal('value', HOOK_A);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('other').toString('base64url');
    expect(() => box.open(parts.join(':'), HOOK_A)).toThrow(SecretOpenError);
    expect(() => new SecretBox(NEW).open(sealed, HOOK_A)).toThrow(/unknown key/);
    expect(() => box.open('garbage', HOOK_A)).toThrow(SecretOpenError);
  });

  it('after a rotation opens what the previous key sealed, and seals under the new key', () => {
    const old = box.seal('rotated', HOOK_A);
    const ring = new SecretBox(NEW, [OLD]);
    expect(ring.open(old, HOOK_A)).toBe('rotated');
    expect(ring.needsReseal(old)).toBe(true);
    const moved = ring.reseal(old, HOOK_A);
    expect(moved.split(':')[1]).toBe(keyId(NEW));
    expect(ring.needsReseal(moved)).toBe(false);
    expect(ring.reseal(moved, HOOK_A)).toBe(moved); // idempotent
    expect(new SecretBox(NEW).open(moved, HOOK_A)).toBe('rotated'); // the old key can go now
  });

  it('still opens v1 ciphertexts (no associated data) under any key of the ring, and upgrades them', () => {
    const v1 = legacyV1(OLD, 'legacy');
    const ring = new SecretBox(NEW, [OLD]);
    expect(ring.open(v1, HOOK_A)).toBe('legacy');
    expect(ring.needsReseal(v1)).toBe(true);
    const upgraded = ring.reseal(v1, HOOK_A);
    expect(upgraded.startsWith(`v2:${keyId(NEW)}:`)).toBe(true);
    expect(() => ring.open(upgraded, HOOK_B)).toThrow(SecretOpenError);
    expect(() => new SecretBox(NEW).open(v1, HOOK_A)).toThrow(SecretOpenError);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow();
    expect(() => new SecretBox(NEW, [Buffer.alloc(31)])).toThrow();
  });
});
