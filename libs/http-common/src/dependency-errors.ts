import { isNatsUnavailable } from '@app/messaging';

/**
 * Errors that mean a dependency (PostgreSQL, NATS) cannot be reached right now, as opposed to a
 * bug or bad data: the same request may succeed if repeated later, so the API answers 503 with
 * Retry-After and the delivery node tries the same batch again (anything else splits the batch).
 * Recognised by code, name and message along the error's cause chain (NATS's codes by
 * libs/messaging), so the HTTP layer needs no knowledge of the drivers that raise them.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
/**
 * PostgreSQL SQLSTATEs worth trying again: class 08 (connection exception), 57P01-03 (shutting
 * down, cannot connect now), class 53 (insufficient resources), 40001/40P01 (serialization failure,
 * deadlock), 57014 (statement timeout), 55P03 (lock not available).
 */
const POSTGRES_CODES = /^(08\w{3}|57P0[1-3]|53\w{3}|40001|40P01|57014|55P03)$/;
const NAMES = new Set(['ConnectionException', 'KnexTimeoutError']);
const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /^timeout expired$/, // pg: connectionTimeoutMillis passed before the server answered the connect
  /Timeout acquiring a connection/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Connection ended unexpectedly/i,
  /Query read timeout/i, // pg: query_timeout passed (a network partition)
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

export function isDependencyUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_CODES.test(code))) return true;
    if (isNatsUnavailable(e)) return true;
    if (typeof name === 'string' && NAMES.has(name)) return true;
    if (typeof message === 'string' && MESSAGES.some((m) => m.test(message))) return true;
    const errors = (e as { errors?: unknown }).errors; // AggregateError of connect attempts
    if (Array.isArray(errors) && errors.some(isDependencyUnavailable)) return true;
    e = (e as { cause?: unknown; previous?: unknown }).cause ?? (e as { previous?: unknown }).previous;
  }
  return false;
}
