import { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { json, NextFunction, Request, Response } from 'express';
import { Unauthenticated } from '@app/domain';
import { exceedsDepth, MAX_BODY_DEPTH } from './body-depth';
import { answerParserErrors } from './parser-errors';
import { HttpMetrics } from './http-metrics';
import { catalogueProblem } from './problem';
import type { ProblemCode } from './problem-catalogue';
import { ProblemFilter, sendProblem, toProblem } from './problem.filter';
import { StrictValidationPipe } from './validation';

export const MAX_BODY_BYTES = 64 * 1024;

/** How body-parser's refusals are answered: [problem code, detail]. */
const BODY_ERRORS: Record<string, [ProblemCode, string]> = {
  'entity.too.large': ['body-too-large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`],
  'entity.too.deep': ['body-too-deep', `The request body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`],
  'entity.parse.failed': ['malformed-json', 'The request body is not valid JSON.'],
  'charset.unsupported': ['unsupported-charset', 'JSON request bodies must be UTF-8.'],
  'encoding.unsupported': ['unsupported-content-encoding', 'The Content-Encoding of the request body is not supported.'],
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
  app.use(app.get(HttpMetrics, { strict: false }).middleware());
  app.use(json({ limit: MAX_BODY_BYTES, type: ['application/json', 'application/*+json'], verify: refuseDeepBodies }));
  app.use((err: { type?: string; status?: number }, req: Request, res: Response, next: NextFunction) => {
    if (!err) return next();
    const [code, detail] = BODY_ERRORS[err.type ?? ''] ?? ['unreadable-body', 'The request body could not be read.'];
    // The body is read before the auth guard runs; a caller without a token learns only that.
    if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) return sendProblem(res, toProblem(new Unauthenticated()));
    sendProblem(res, catalogueProblem(code, detail));
  });
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
}
