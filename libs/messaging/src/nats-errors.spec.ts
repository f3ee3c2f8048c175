import { ErrorCode, NatsError } from 'nats';
import { isNatsUnavailable } from './nats-errors';

/** A JetStream API error as nats.js raises it from a `{"error": {...}}` answer. */
const apiError = (code: number, err_code: number, description: string) =>
  Object.assign(new NatsError(description, code === 503 ? ErrorCode.JetStreamNotEnabled : String(code)), { api_error: { code, err_code, description } });

describe('isNatsUnavailable', () => {
  // Every nats.js code is decided here, so a new one cannot slip through as a server bug unnoticed.
  const unavailable = new Set<string>([
    ErrorCode.NoResponders,
    ErrorCode.Timeout,
    ErrorCode.ConnectionClosed,
    ErrorCode.ConnectionDraining,
    ErrorCode.ConnectionRefused,
    ErrorCode.ConnectionTimeout,
    ErrorCode.Disconnect,
  ]);

  it.each(Object.entries(ErrorCode))('nats.js %s (%s) is classified', (_name, code) => {
    expect(isNatsUnavailable(NatsError.errorForCode(code))).toBe(unavailable.has(code));
  });

  it.each([
    ['no meta leader', apiError(503, 10008, 'JetStream system temporarily unavailable')],
    ['no stream quorum', apiError(503, 10008, 'jetstream system temporarily unavailable')],
  ])('a JetStream API error with status 503 (%s) is an outage', (_label, err) => {
    expect(isNatsUnavailable(err)).toBe(true);
  });

  it.each([
    ['stream not found', apiError(404, 10059, 'stream not found')],
    ['wrong last sequence', apiError(400, 10071, 'wrong last sequence: 3')],
    ['a plain error', new Error('TIMEOUT')],
    ['not an error', '503'],
    ['null', null],
  ])('%s is not', (_label, err) => {
    expect(isNatsUnavailable(err)).toBe(false);
  });
});
