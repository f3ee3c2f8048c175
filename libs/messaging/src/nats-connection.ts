import { connect, NatsConnection } from 'nats';

/** Connects with endless reconnects: a NATS restart must not take an app down. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
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
  });
}
