import { createHash, randomBytes } from 'node:crypto';

/** Bearer tokens are random and stored only as a SHA-256 hash. */
export function generateApiToken(): string {
  return `wht_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Shows the last four characters only. */
export function maskSecret(secret: string): string {
  return `****${secret.slice(-4)}`;
}
