import { INestApplication, Logger, LogLevel } from '@nestjs/common';
import type { Server } from 'node:http';
import { json, NextFunction, Request, Response } from 'express';
import { BadRequest, Unauthenticated } from '@app/domain';
import { exceedsDepth, MAX_BODY_DEPTH } from './body-depth';
import { answerParserErrors } from './parser-errors';
import { ProblemFilter, sendProblem, toProblem } from './problem.filter';
import { StrictValidationPipe } from './validation';

export const MAX_BODY_BYTES = 64 * 1024;

export function logLevels(level: string): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const i = order.indexOf(level as LogLevel);
  return order.slice(0, i < 0 ? 4 : i + 1);
}

/** How body-parser's refusals are answered: [status, problem code, detail]. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [400, 'body-too-large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`],
  'entity.too.deep': [400, 'body-too-deep', `The request body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`],
  'entity.parse.failed': [400, 'malformed-json', 'The request body is not valid JSON.'],
  'charset.unsupported': [415, 'unsupported-charset', 'JSON request bodies must be UTF-8.'],
  'encoding.unsupported': [415, 'unsupported-content-encoding', 'The Content-Encoding of the request body is not supported.'],
};

/** body-parser's verify hook: a body nested deeper than the limit never reaches JSON.parse or validation. */
function refuseDeepBodies(_req: unknown, _res: unknown, raw: Buffer): void {
  if (exceedsDepth(raw)) throw Object.assign(new Error('body too deep'), { status: 400, type: 'entity.too.deep' });
}

/**
 * Shared HTTP set-up: JSON bodies up to 64 KiB and 32 levels deep (anything else is a 4xx problem
 * document), problem documents for what Node's HTTP parser refuses, strict validation and the
 * problem filter.
 */
export function configureHttp(app: INestApplication): void {
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  express.set('query parser', 'simple');
  answerParserErrors(app.getHttpServer() as Server);
  app.use(json({ limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'], verify: refuseDeepBodies }));
  app.use((err: { type?: string; status?: number }, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const [status, code, detail] = BODY_ERRORS[err.type ?? ''] ?? [400, 'unreadable-body', 'The request body could not be read.'];
    // The body is read before the auth guard runs; a caller without a token learns only that.
    if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) return sendProblem(res, toProblem(new Unauthenticated()));
    const problem = toProblem(new BadRequest(code, detail), new Logger('Http'));
    sendProblem(res, status === 400 ? problem : { ...problem, status, title: 'Unsupported media type' });
  });
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
}
