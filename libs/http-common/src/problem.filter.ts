import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '@app/domain';
import { isDependencyUnavailable } from './dependency-errors';
import { catalogueProblem, Problem, PROBLEM_CONTENT_TYPE, problemFromDomainError, problemType } from './problem';
import { codeForStatus } from './problem-catalogue';

/** Seconds a client is asked to wait before repeating a request that met an unavailable dependency. */
export const RETRY_AFTER_SECONDS = 5;

function titleOf(status: number): string {
  return (
    HttpStatus[status]
      ?.replace(/_/g, ' ')
      .toLowerCase()
      .replace(/^\w/, (c) => c.toUpperCase()) ?? 'Error'
  );
}

/**
 * A client error raised below Nest by Express or its middleware (http-errors: `status` 4xx and
 * `expose`), e.g. a path parameter that is not valid percent-encoding.
 */
function clientHttpError(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const { status, statusCode, expose } = err as { status?: unknown; statusCode?: unknown; expose?: unknown };
  const s = typeof status === 'number' ? status : statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 && expose !== false ? s : undefined;
}

/** Maps every error to a problem document; unexpected errors are logged and become a bare 500. */
export function toProblem(err: unknown, logger?: Logger): Problem {
  if (err instanceof DomainError) return problemFromDomainError(err);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const detail =
      typeof response === 'string'
        ? response
        : Array.isArray((response as { message?: unknown }).message)
          ? (response as { message: string[] }).message.join('; ')
          : messageOf(response, err.message);
    return { type: problemType(codeForStatus(status) ?? 'error'), title: titleOf(status), status, detail };
  }
  const clientStatus = clientHttpError(err);
  if (clientStatus) {
    const detail = clientStatus === 400 ? 'The request is not valid (e.g. a path with broken percent-encoding).' : titleOf(clientStatus);
    return { type: problemType(codeForStatus(clientStatus) ?? 'bad-request'), title: titleOf(clientStatus), status: clientStatus, detail };
  }
  if (isDependencyUnavailable(err)) {
    // Not a bug: the database (or NATS) is unreachable. No stack, no driver message (it may name hosts).
    logger?.warn(`dependency unavailable: ${outageLabel(err)}`);
    return catalogueProblem('service-unavailable', 'A service this request needs is unavailable; try again shortly.');
  }
  logger?.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return catalogueProblem('internal', 'An unexpected error occurred.');
}

/** The error's name and code (e.g. `NatsError TIMEOUT`, `Error ECONNREFUSED`): never its message, which may name hosts. */
function outageLabel(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const name = err instanceof Error ? err.name : typeof err;
  return typeof code === 'string' || typeof code === 'number' ? `${name} ${String(code).slice(0, 40)}` : name;
}

export function sendProblem(res: Response, problem: Problem): void {
  if (problem.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    sendProblem(res, toProblem(exception, this.logger));
  }
}

/** A Nest exception's own message when it has a plain one, else the exception's. */
function messageOf(response: object, fallback: string): string {
  const message = (response as { message?: unknown }).message;
  return typeof message === 'string' || typeof message === 'number' ? String(message) : fallback;
}
