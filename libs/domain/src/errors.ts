/**
 * Domain errors carry a stable code and an HTTP-agnostic kind; one exception filter maps them to
 * RFC 7807 problem documents.
 */
export type ErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not-found' | 'conflict' | 'unavailable';

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly meta: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export class ValidationFailed extends DomainError {
  constructor(errors: FieldError[], detail = 'The request is not valid.') {
    super('invalid', 'validation-error', 'Validation failed', detail, { errors });
  }
}

export class BadRequest extends DomainError {
  /** `errors`: the fields at fault, when the request has some (shown in meta.errors, as for a validation error). */
  constructor(code: string, detail: string, errors?: FieldError[]) {
    super('invalid', code, 'Bad request', detail, errors ? { errors } : {});
  }
}

export class Unauthenticated extends DomainError {
  constructor(detail = 'A valid bearer token is required.') {
    super('unauthenticated', 'unauthorized', 'Unauthorized', detail);
  }
}

export class Forbidden extends DomainError {
  constructor(detail: string) {
    super('forbidden', 'forbidden', 'Forbidden', detail);
  }
}

export class NotFound extends DomainError {
  constructor(what: string) {
    super('not-found', 'not-found', 'Not found', `${what} was not found.`);
  }
}

export class Conflict extends DomainError {
  constructor(code: string, detail: string, meta: Record<string, unknown> = {}) {
    super('conflict', code, 'Conflict', detail, meta);
  }
}
