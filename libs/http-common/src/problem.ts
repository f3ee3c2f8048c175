import { DomainError, ErrorKind } from '@app/domain';

/** RFC 7807 problem document as served by every app. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  meta?: Record<string, unknown>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
};

export function problemType(code: string): string {
  return `/problems/${code}`;
}

export function problemFromDomainError(err: DomainError): Problem {
  const problem: Problem = { type: problemType(err.code), title: err.title, status: STATUS_BY_KIND[err.kind], detail: err.message };
  if (Object.keys(err.meta).length) problem.meta = err.meta;
  return problem;
}
