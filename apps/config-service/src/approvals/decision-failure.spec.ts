import { CheckConstraintViolationException, ConnectionException, DeadlockException } from '@mikro-orm/postgresql';
import { Conflict } from '@app/domain';
import { finalFailure } from './decision-failure';

describe('when an approved change stops being retried', () => {
  const first = { attempt: 1, last: false };
  const last = { attempt: 10, last: true };
  const refused = () =>
    new CheckConstraintViolationException(Object.assign(new Error("update webhooks set api_key_enc = 'sealed-secret' ..."), { code: '23514', constraint: 'webhooks_rate' }));

  it('a broken rule is final at once, with the rule in the detail', () => {
    expect(finalFailure(new Conflict('name-taken', 'The name is taken.'), first)).toBe('The approved change could not be applied: The name is taken.');
  });

  it('any other failure is retried until the last attempt', () => {
    expect(finalFailure(refused(), first)).toBeUndefined();
    expect(finalFailure(new Error('the sealed proposal could not be read (wrong SECRETS_KEY or damaged data)'), first)).toBeUndefined();
  });

  it('on the last attempt it is final, naming the SQLSTATE and constraint but never the SQL or its values', () => {
    const detail = finalFailure(refused(), last)!;
    expect(detail).toBe('The approved change could not be applied after 10 attempts: the database refused it (SQLSTATE 23514, constraint webhooks_rate)');
    expect(detail).not.toContain('sealed-secret');
    expect(finalFailure(new Error('the sealed proposal could not be read (wrong SECRETS_KEY or damaged data)'), last)).toMatch(
      /after 10 attempts: the sealed proposal could not be read/,
    );
  });

  it('an outage is never final: an unreachable database, a deadlock', () => {
    expect(finalFailure(new ConnectionException(new Error('Connection terminated unexpectedly')), last)).toBeUndefined();
    expect(finalFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), last)).toBeUndefined();
    expect(finalFailure(new DeadlockException(Object.assign(new Error('deadlock detected'), { code: '40P01' })), last)).toBeUndefined();
  });
});
