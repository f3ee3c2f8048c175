import { INestApplication, Logger, LogLevel } from '@nestjs/common';
import { json, NextFunction, Request, Response } from 'express';
import { BadRequest, Unauthenticated } from '@app/domain';
import { ProblemFilter, sendProblem, toProblem } from './problem.filter';
import { StrictValidationPipe } from './validation';

export const MAX_BODY_BYTES = 64 * 1024;

export function logLevels(level: string): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const i = order.indexOf(level as LogLevel);
  return order.slice(0, i < 0 ? 4 : i + 1);
}

/**
 * Shared HTTP set-up: JSON bodies up to 64 KiB (malformed or oversized bodies become 400 problem
 * documents), strict validation and the problem filter.
 */
export function configureHttp(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  express.set('query parser', 'simple');
  app.use(json({ limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'] }));
  app.use((err: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const detail =
      err.type === 'entity.too.large'
        ? `The request body is larger than ${MAX_BODY_BYTES} bytes.`
        : err.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON.'
          : 'The request body could not be read.';
    const code = err.type === 'entity.too.large' ? 'body-too-large' : 'malformed-json';
    // The body is read before the auth guard runs; a caller without a token learns only that.
    if (!/^Bearer\s+\S+/i.test(_req.headers.authorization ?? '')) return sendProblem(res, toProblem(new Unauthenticated()));
    sendProblem(res, toProblem(new BadRequest(code, detail), new Logger('Http')));
  });
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
}
