import type { ErrorKind } from '@app/domain';

/**
 * Every problem `type` this API answers (`/problems/<code>`), with its status and title: the one
 * mapping of problem codes to HTTP. Domain errors name a code and a kind; anything raised below
 * the domain (body parser, Node's HTTP parser, Nest) is named here too.
 */
export const PROBLEM_CATALOGUE = {
  // The first code of each status is the one a bare status maps to (codeForStatus).
  'bad-request': { status: 400, title: 'Bad request' },
  'validation-error': { status: 400, title: 'Validation failed' },
  'invalid-body': { status: 400, title: 'Bad request' },
  'invalid-cursor': { status: 400, title: 'Bad request' },
  'empty-patch': { status: 400, title: 'Bad request' },
  'body-too-large': { status: 400, title: 'Bad request' },
  'body-too-deep': { status: 400, title: 'Bad request' },
  'malformed-json': { status: 400, title: 'Bad request' },
  'unreadable-body': { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'duplicate-name': { status: 409, title: 'Conflict' },
  'webhook-limit-reached': { status: 409, title: 'Conflict' },
  'webhook-not-active': { status: 409, title: 'Conflict' },
  'approval-pending': { status: 409, title: 'Conflict' },
  'approval-not-pending': { status: 409, title: 'Conflict' },
  'already-approved': { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'uri-too-long': { status: 414, title: 'URI too long' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unsupported-charset': { status: 415, title: 'Unsupported media type' },
  'unsupported-content-encoding': { status: 415, title: 'Unsupported media type' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  'headers-too-large': { status: 431, title: 'Request header fields too large' },
  internal: { status: 500, title: 'Internal error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEM_CATALOGUE;

/** The status of each kind of domain error; a code in the catalogue must agree with its kind. */
export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
};

export function isProblemCode(code: string): code is ProblemCode {
  return Object.prototype.hasOwnProperty.call(PROBLEM_CATALOGUE, code);
}

/** The catalogue's code for a bare HTTP status (a Nest or Express refusal with no code of its own). */
export function codeForStatus(status: number): ProblemCode | undefined {
  return (Object.keys(PROBLEM_CATALOGUE) as ProblemCode[]).find((c) => PROBLEM_CATALOGUE[c].status === status);
}

export function problemType(code: string): string {
  return `/problems/${code}`;
}
