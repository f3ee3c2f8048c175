import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { NatsAccess } from '@app/config';

/** Credentials and TLS of the connection, from NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE and NATS_TLS_*. */
export function natsAccessOptions(access: NatsAccess = {}): Partial<ConnectionOptions> {
  const opts: Partial<ConnectionOptions> = {};
  if (access.user) Object.assign(opts, { user: access.user, pass: access.password });
  if (access.token) opts.token = access.token;
  if (access.credsFile) opts.authenticator = credsAuthenticator(readFileSync(access.credsFile));
  if (access.tls) {
    // Setting `tls` makes the client require TLS, whatever the URL scheme says.
    opts.tls = {
      ...(access.tls.caFile ? { caFile: access.tls.caFile } : {}),
      ...(access.tls.certFile ? { certFile: access.tls.certFile, keyFile: access.tls.keyFile } : {}),
    };
  }
  return opts;
}

/** NATS answered but refused this client (credentials or TLS): retrying will not help, so start-up stops. */
export class NatsRefusedError extends Error {}

/** How often the client pings the server; three unanswered in a row and it reconnects. */
export const NATS_PING_INTERVAL_MS = 3000;

/** Answers meaning "nothing reachable yet": start-up keeps waiting for NATS. */
const NOT_YET_REACHABLE = new Set(['CONNECTION_REFUSED', 'TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Connects with endless reconnects: a NATS restart must not take an app down, and an app may start
 * before NATS. A server that answers but refuses the credentials or the TLS handshake stops
 * start-up with a clear error instead of being retried forever.
 */
export async function connectNats(url: string, name: string, access: NatsAccess = {}): Promise<NatsConnection> {
  const opts: ConnectionOptions = {
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 10_000,
    // A connection silent for ~12 s is dropped and made anew, instead of after 2 x 2 minutes: over a
    // link that was down, TCP's retransmission timer has backed off to seconds, and the old connection
    // stayed deaf for 10 s and more after the link came back (the network-fault suite's link-down
    // case); a new one answers at once.
    pingInterval: NATS_PING_INTERVAL_MS,
    maxPingOut: 3,
    // Without this, every request and publish captures a stack trace up front for a better timeout
    // message: a measurable share of the fan-out's CPU for a message nobody reads.
    noAsyncTraces: true,
    ...natsAccessOptions(access),
  };
  try {
    return await connect({ ...opts, waitOnFirstConnect: false });
  } catch (err) {
    const raw = (err as { code?: unknown }).code;
    const code = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
    if (!NOT_YET_REACHABLE.has(code)) {
      const hint = /AUTH/.test(code)
        ? 'check NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS_FILE'
        : 'check NATS_URL and NATS_TLS_CA_FILE / NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE';
      throw new NatsRefusedError(`NATS refused this client (${code || 'error'}: ${(err as Error).message}); ${hint}`);
    }
    return connect({ ...opts, waitOnFirstConnect: true });
  }
}
