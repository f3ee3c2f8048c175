import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '@app/domain';
import { Problem, PROBLEM_CONTENT_TYPE, problemFromDomainError, problemType } from './problem';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
};

/** Maps every error to a problem document; unexpected errors are logged and become a bare 500. */
export function toProblem(err: unknown, logger?: Logger): Problem {
  if (err instanceof DomainError) return problemFromDomainError(err);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const response = err.getResponse();
    const detail =
      typeof response === 'string' ? response : Array.isArray((response as { message?: unknown }).message)
        ? ((response as { message: string[] }).message).join('; ')
        : String((response as { message?: unknown }).message ?? err.message);
    return { type: problemType(CODE_BY_STATUS[status] ?? 'error'), title: HttpStatus[status]?.replace(/_/g, ' ').toLowerCase().replace(/^\w/, (c) => c.toUpperCase()) ?? 'Error', status, detail };
  }
  logger?.error(err instanceof Error ? err.stack ?? err.message : String(err));
  return { type: problemType('internal'), title: 'Internal error', status: 500, detail: 'An unexpected error occurred.' };
}

export function sendProblem(res: Response, problem: Problem): void {
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
