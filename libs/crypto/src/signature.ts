import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks signing (https://www.standardwebhooks.com). */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A signing secret decoded once, for signing many messages with signWithKey. */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** The `webhook-signature` header value for one message, with the secret already decoded (the delivery path signs every attempt). */
export function signWithKey(key: Buffer, msgId: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The `webhook-signature` header value for one message. */
export function signPayload(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  return signWithKey(signingKey(secret), msgId, timestampSeconds, body);
}
