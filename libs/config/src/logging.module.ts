import { Module, RequestMethod } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule, type Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Options } from 'pino-http';
import { AppConfig } from './app-config.module';
import type { LogLevelName, PlatformEnv } from './env';
import { requestIds, RequestLogIds } from './request-log-ids.interceptor';

/** Nest's level names (kept for LOG_LEVEL) mapped to pino's. */
export const PINO_LEVELS: Record<LogLevelName, string> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/**
 * Where secrets can appear in a log object. Request headers are reduced to a short whitelist by the
 * serializer anyway; this is the second line, also for objects code logs on purpose.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...[
    'authorization',
    'cookie',
    'password',
    'token',
    'access_token',
    'secret',
    'client_secret',
    'signing_secret',
    'api_key',
    'apiKey',
    'key',
    'secrets',
    'headers.authorization',
  ].flatMap((k) => [k, `*.${k}`]),
];

/** Request headers worth a log line; every other header (credentials, cookies, custom API key headers) is left out. */
const LOGGED_HEADERS = ['user-agent', 'content-type', 'content-length', 'x-request-id', 'x-forwarded-for'];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when it is a plain short token, else a new one; returned on the response either way. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

export function pinoHttpOptions(config: Pick<PlatformEnv, 'logLevel' | 'logPretty'>, stdoutIsTty = !!process.stdout.isTTY): Options {
  const pretty = config.logPretty ?? stdoutIsTty;
  return {
    level: PINO_LEVELS[config.logLevel],
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    genReqId: requestId,
    customAttributeKeys: { reqId: 'request_id' },
    quietReqLogger: true,
    customProps: (req) => requestIds(req),
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'warn' : 'info'),
    serializers: {
      req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        headers: Object.fromEntries(LOGGED_HEADERS.filter((h) => req.headers?.[h] !== undefined).map((h) => [h, req.headers[h]])),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    transport: pretty ? { target: 'pino-pretty', options: { singleLine: true, colorize: stdoutIsTty } } : undefined,
  };
}

/**
 * Probes and scrapes get no request logger. Binding one runs the request in an AsyncLocalStorage
 * context, and the first such run switches async hooks on for the whole process: from then on every
 * promise and timer pays for context propagation. A delivery node serves nothing but these routes,
 * so one health probe used to tax every delivery (about 5 % of its CPU, plus garbage).
 */
export const UNLOGGED_ROUTES = [
  { path: 'health', method: RequestMethod.GET },
  { path: 'health/live', method: RequestMethod.GET },
  { path: 'metrics', method: RequestMethod.GET },
];

/** Where log lines go instead of stdout, when a global module provides it (tests read them there). */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/**
 * JSON logs through nestjs-pino (pretty when stdout is a terminal or LOG_PRETTY=true): a request id
 * honoured from and returned in `X-Request-Id`, the account, webhook and event ids where they apply,
 * credentials redacted; every line logged while a request is handled carries them (RequestLogIds).
 * Log lines about one event or webhook outside a request pass the ids as fields:
 * `logger.warn({ msg: '...', event_id, webhook_id })`.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig, { token: LOG_DESTINATION, optional: true }],
      useFactory: (config: AppConfig, destination?: DestinationStream): Params => ({
        pinoHttp: destination ? [pinoHttpOptions(config), destination] : pinoHttpOptions(config),
        exclude: UNLOGGED_ROUTES,
      }),
    }),
  ],
  providers: [{ provide: APP_INTERCEPTOR, useClass: RequestLogIds }],
})
export class LoggingModule {}
