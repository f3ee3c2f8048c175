import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** Which stored secret a ciphertext is: part of its associated data, so it opens only in its own place. */
export type SecretField = 'signing_secret' | 'api_key' | 'oauth_client_secret' | 'proposal';

/** Where a secret belongs: the webhook (or approval request, for a proposal) and the field. */
export interface SecretContext {
  owner: string;
  field: SecretField;
}

export class SecretOpenError extends Error {}

/** A short, stable id of a key (not secret: 8 hex digits of its SHA-256), written into each ciphertext. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('webhooks-secret-key-id:').update(key).digest('hex').slice(0, 8);
}

function aad(ctx: SecretContext): Buffer {
  return Buffer.from(`${ctx.owner}\u0000${ctx.field}`, 'utf8');
}

/**
 * AES-256-GCM sealing of secrets at rest, under a key ring: new secrets are sealed with the current
 * key; earlier keys (SECRETS_KEY_PREVIOUS) still open what they sealed, until `npm run admin --
 * secrets:reencrypt` has moved everything to the current key.
 *
 * Format `v2:<key id>:<iv>:<tag>:<data>` (base64url parts). The associated data is the owner id and
 * the field, so a ciphertext copied into another webhook's row, or into another field, does not
 * open. `v1:<iv>:<tag>:<data>` (no key id, no associated data) is what earlier releases wrote: it
 * still opens under any key of the ring, and re-encryption upgrades it.
 */
export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly ring = new Map<string, Buffer>();

  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    for (const k of [key, ...previous]) if (k.length !== 32) throw new Error('SecretBox needs 32-byte keys');
    this.current = { id: keyId(key), key };
    for (const k of [key, ...previous]) if (!this.ring.has(keyId(k))) this.ring.set(keyId(k), k);
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plain: string, ctx: SecretContext): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(aad(ctx));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v2', this.current.id, ...[iv, cipher.getAuthTag(), data].map((p) => p.toString('base64url'))].join(':');
  }

  /** The plain text; throws SecretOpenError (never quoting the data) when it is not this owner's field under a known key. */
  open(sealed: string, ctx: SecretContext): string {
    const parts = sealed.split(':');
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.ring.get(parts[1]);
      if (!key) throw new SecretOpenError(`secret sealed under unknown key ${parts[1]} (set it in SECRETS_KEY_PREVIOUS)`);
      return this.decipher(key, parts[2], parts[3], parts[4], aad(ctx));
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      for (const key of this.ring.values()) {
        try {
          return this.decipher(key, parts[1], parts[2], parts[3], undefined);
        } catch {
          // try the next key
        }
      }
      throw new SecretOpenError('secret (v1) opens under none of the configured keys');
    }
    throw new SecretOpenError('unrecognised ciphertext');
  }

  /** True when the ciphertext is not yet in the current format under the current key. */
  needsReseal(sealed: string): boolean {
    const parts = sealed.split(':');
    return !(parts[0] === 'v2' && parts[1] === this.current.id);
  }

  /** Opens with the old context rules and seals under the current key; unchanged when already current. */
  reseal(sealed: string, ctx: SecretContext): string {
    return this.needsReseal(sealed) ? this.seal(this.open(sealed, ctx), ctx) : sealed;
  }

  private decipher(key: Buffer, iv: string, tag: string, data: string, ad: Buffer | undefined): string {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      if (ad) decipher.setAAD(ad);
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretOpenError("secret does not open here (wrong key, another webhook's or field's secret, or damaged data)");
    }
  }
}
