import { DomainError } from '@app/domain';
import { PROBLEM_CATALOGUE, ProblemCode, problemType, STATUS_BY_KIND } from './problem-catalogue';

export { problemType };

/** RFC 7807 problem document as served by every app. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  meta?: Record<string, unknown>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A problem document for one of the catalogue's codes. */
export function catalogueProblem(code: ProblemCode, detail: string): Problem {
  const { status, title } = PROBLEM_CATALOGUE[code];
  return { type: problemType(code), title, status, detail };
}

export function problemFromDomainError(err: DomainError): Problem {
  const problem: Problem = { type: problemType(err.code), title: err.title, status: STATUS_BY_KIND[err.kind], detail: err.message };
  if (Object.keys(err.meta).length) problem.meta = err.meta;
  return problem;
}
