import { DriverException } from '@mikro-orm/postgresql';
import { DomainError, FieldError } from '@app/domain';
import { isDependencyUnavailable } from '@app/http-common';

/** Which delivery of the decision this is; on the last one a failure that is not an outage is final. */
export interface ApplyAttempt {
  attempt: number;
  last: boolean;
}

/** The webhook's status_detail when `err` ends the change now; undefined when it is worth retrying. */
export function finalFailure(err: unknown, { attempt, last }: ApplyAttempt): string | undefined {
  if (err instanceof DomainError) return `The approved change could not be applied: ${describe(err)}`;
  if (!last || isDependencyUnavailable(err)) return undefined;
  return `The approved change could not be applied after ${attempt} attempts: ${describeFailure(err)}`;
}

/** A driver's message quotes the SQL and its parameters: only the SQLSTATE and constraint are shown. */
function describeFailure(err: unknown): string {
  if (err instanceof DriverException) {
    const constraint = (err as { constraint?: string }).constraint;
    return `the database refused it (SQLSTATE ${err.code ?? 'unknown'}${constraint ? `, constraint ${constraint}` : ''})`;
  }
  return err instanceof Error ? err.message.slice(0, 300) : 'an unexpected error';
}

function describe(err: DomainError): string {
  const errors = (err.meta.errors as FieldError[] | undefined) ?? [];
  return errors.length ? `${err.message} ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}` : err.message;
}
