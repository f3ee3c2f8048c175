/**
 * JetStream API errors recognised by the server's error code (`api_error.err_code`, stable across
 * server versions and languages), never by their message text.
 */
export const JetStreamErrorCode = {
  ConsumerNameInUse: 10013,
  ConsumerNotFound: 10014,
  StreamNameInUse: 10058,
  StreamNotFound: 10059,
  NoMessageFound: 10037,
  WrongLastSequence: 10071,
  ConsumerExistingActive: 10105,
  ConsumerAlreadyExists: 10148,
} as const;

export type JetStreamErrorName = keyof typeof JetStreamErrorCode;

/** The JetStream error code an error carries, if it is a JetStream API error (nats.js NatsError). */
export function jetStreamErrorCode(err: unknown): number | undefined {
  const code = (err as { api_error?: { err_code?: unknown } } | null)?.api_error?.err_code;
  return typeof code === 'number' ? code : undefined;
}

/** Whether the error is one of the named JetStream API errors. */
export function isJetStreamError(err: unknown, ...names: JetStreamErrorName[]): boolean {
  const code = jetStreamErrorCode(err);
  return code !== undefined && names.some((n) => JetStreamErrorCode[n] === code);
}

/** A stream or consumer another process created first (with this or another configuration). */
export const alreadyExists = (err: unknown) => isJetStreamError(err, 'StreamNameInUse', 'ConsumerNameInUse', 'ConsumerAlreadyExists', 'ConsumerExistingActive');
export const streamNotFound = (err: unknown) => isJetStreamError(err, 'StreamNotFound');
export const consumerNotFound = (err: unknown) => isJetStreamError(err, 'ConsumerNotFound');
/** A KV create or compare-and-set update that lost to another writer. */
export const wrongLastSequence = (err: unknown) => isJetStreamError(err, 'WrongLastSequence');

/**
 * nats.js codes meaning NATS cannot serve the request now (nothing answered, the request timed out,
 * the connection is gone): `503` is "no responders" and also JetStream's "not enabled".
 */
const UNAVAILABLE_CODES = new Set(['503', 'TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', 'DISCONNECT']);

/**
 * NATS or its JetStream is unavailable (the same request may succeed later), as opposed to a bug or
 * a refusal: a nats.js code above, or a JetStream API error with status 503 (e.g. no meta leader, no
 * stream quorum).
 */
export function isNatsUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, api_error } = err as { code?: unknown; api_error?: { code?: unknown } };
  return (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || api_error?.code === 503;
}
