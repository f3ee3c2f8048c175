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

/** Connects with endless reconnects: a NATS restart must not take an app down. */
export async function connectNats(url: string, name: string, access: NatsAccess = {}): Promise<NatsConnection> {
  return connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    timeout: 10_000,
    // Without this, every request and publish captures a stack trace up front for a better timeout
    // message: a measurable share of the fan-out's CPU for a message nobody reads.
    noAsyncTraces: true,
    ...natsAccessOptions(access),
  });
}
