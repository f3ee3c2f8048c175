import { createHash, randomBytes } from 'node:crypto';

/** Bearer tokens are random and stored only as a SHA-256 hash. */
export function generateApiToken(): string {
  return `wht_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Shows the last four characters only, and none of a secret too short to spare them. */
export function maskSecret(secret: string): string {
  return secret.length >= 8 ? `****${secret.slice(-4)}` : '****';
}
