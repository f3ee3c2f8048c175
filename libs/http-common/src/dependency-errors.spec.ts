import { ConnectionException, DriverException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { Logger } from '@nestjs/common';
import { ErrorCode, NatsError } from 'nats';
import { isDependencyUnavailable } from './dependency-errors';
import { toProblem } from './problem.filter';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['pg: the connection went away', new Error('Connection terminated unexpectedly')],
    ['pg: connect timeout', new Error('Connection terminated due to connection timeout')],
    ['pg: connect timeout (stream destroyed)', new Error('timeout expired')],
    ['knex: no pooled connection', Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' })],
    ['postgres shutting down', withCode('terminating connection due to administrator command', '57P01')],
    ['postgres: cannot connect now', withCode('the database system is starting up', '57P03')],
    ['MikroORM wrapping a refused connection', new DriverException(withCode('connect ECONNREFUSED', 'ECONNREFUSED'))],
    ['MikroORM ConnectionException', new ConnectionException(new Error('gone'))],
    ['a cause chain', new Error('outer', { cause: withCode('inner', 'ETIMEDOUT') })],
    ['nats: connection closed', withCode('closed', 'CONNECTION_CLOSED')],
    ['nats: no responders', NatsError.errorForCode(ErrorCode.NoResponders)],
    ['nats: request timeout', NatsError.errorForCode(ErrorCode.Timeout)],
    ['nats: disconnected', NatsError.errorForCode(ErrorCode.Disconnect)],
    [
      'JetStream: no quorum (API error 503)',
      Object.assign(NatsError.errorForCode(ErrorCode.JetStreamNotEnabled), { api_error: { code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' } }),
    ],
    [
      'happy eyeballs: every address refused',
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')]),
    ],
    ['postgres: serialization failure', withCode('could not serialize access', '40001')],
    ['postgres: deadlock', withCode('deadlock detected', '40P01')],
    ['postgres: out of memory', withCode('out of memory', '53200')],
  ])('%s is a dependency outage', (_label, err) => {
    expect(isDependencyUnavailable(err)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a constraint violation', new UniqueConstraintViolationException(withCode('duplicate key', '23505'))],
    ['a syntax error', withCode('syntax error at or near', '42601')],
    ['bytes Postgres refuses', withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021')],
    ['a bad uuid', withCode('invalid input syntax for type uuid', '22P02')],
    ['nesting too deep for jsonb', withCode('stack depth limit exceeded', '54001')],
    ['a call stack overflow', new RangeError('Maximum call stack size exceeded')],
    ['a non-error', 'ECONNREFUSED'],
    ['nats: bad subject', NatsError.errorForCode(ErrorCode.BadSubject)],
    ['JetStream: stream not found', Object.assign(new NatsError('stream not found', '404'), { api_error: { code: 404, err_code: 10059, description: 'stream not found' } })],
  ])('%s is not', (_label, err) => {
    expect(isDependencyUnavailable(err)).toBe(false);
  });

  it('maps to a 503 problem document that names no host', () => {
    const problem = toProblem(withCode('connect ECONNREFUSED 10.1.2.3:5432', 'ECONNREFUSED'));
    expect(problem).toMatchObject({ status: 503, type: '/problems/service-unavailable', title: 'Service unavailable' });
    expect(JSON.stringify(problem)).not.toContain('10.1.2.3');
  });

  // Class: a dependency outage shows as a server bug. Every outage, Postgres's or NATS's, is a 503
  // with one warning line and no stack; only what is not an outage is logged as an error.
  it.each([
    ['Postgres refused', withCode('connect ECONNREFUSED 10.1.2.3:5432', 'ECONNREFUSED'), 'Error ECONNREFUSED'],
    ['NATS no responders', NatsError.errorForCode(ErrorCode.NoResponders), 'NatsError 503'],
    ['NATS timeout', NatsError.errorForCode(ErrorCode.Timeout), 'NatsError TIMEOUT'],
    ['NATS connection closed', NatsError.errorForCode(ErrorCode.ConnectionClosed), 'NatsError CONNECTION_CLOSED'],
  ])('%s: 503 service-unavailable, one warning line without stack', (_label, err, label) => {
    const logger = new Logger('test');
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    expect(toProblem(err, logger)).toMatchObject({ status: 503, type: '/problems/service-unavailable' });
    expect(error).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]).toEqual([`dependency unavailable: ${label}`]);
  });

  it('a bug is still a 500 logged as an error', () => {
    const logger = new Logger('test');
    const error = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    expect(toProblem(new TypeError('x is undefined'), logger)).toMatchObject({ status: 500 });
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('a client error raised by Express middleware keeps its 4xx status', () => {
    const err = Object.assign(new URIError("Failed to decode param '%ZZ'"), { status: 400, statusCode: 400, expose: true });
    expect(toProblem(err)).toMatchObject({ status: 400, type: '/problems/bad-request' });
    expect(toProblem(Object.assign(new Error('boom'), { status: 500 }))).toMatchObject({ status: 500 });
  });
});
