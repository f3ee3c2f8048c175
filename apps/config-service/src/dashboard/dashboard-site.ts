import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { DomainError } from '@app/domain';
import { sendProblem, toProblem } from '@app/http-common';

/** Where the browser reaches the approval service: on the dashboard's own origin. */
export const APPROVAL_API_PREFIX = '/approval-api';

/**
 * The dashboard's policy: scripts, styles and connections from this origin only; no inline code, no
 * eval, no framing, no plugins.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The built dashboard (`npm run build` writes it to dist/dashboard at the repository root). */
export function dashboardDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'dashboard');
}

class ApprovalServiceUnavailable extends DomainError {
  constructor() {
    super('unavailable', 'approval-service-unavailable', 'Service Unavailable', 'The approval service cannot be reached; try again shortly.', {});
  }
}

/** Headers passed each way; hop-by-hop headers and anything else stay behind. */
const REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'x-request-id'];
const RESPONSE_HEADERS = ['content-type', 'content-length', 'retry-after', 'cache-control', 'x-request-id'];

/** Bodies the approval API takes are small; the same cap as the APIs' own JSON bodies. */
const MAX_PROXIED_BODY = 64 * 1024;
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

class ProxiedBodyTooLarge extends DomainError {
  constructor() {
    super('invalid', 'body-too-large', 'Bad Request', `The request body is larger than ${MAX_PROXIED_BODY} bytes.`, {});
  }
}

/** Reads the whole body up to the cap; undefined when it is larger. */
function readBody(req: Request): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_PROXIED_BODY) {
        req.pause();
        return resolve(undefined);
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Forwards `/approval-api/v2/...` to the approval service (method, normalised path, query, body,
 * bearer token), so the dashboard needs one origin and the approval service keeps its own auth.
 * The body is read whole (capped) and sent with its own Content-Length, never streamed with the
 * client's framing: bytes the client sends can only ever be this one request's body.
 */
export function approvalProxy(target: string, logger = new Logger('ApprovalProxy')) {
  const base = new URL(target);
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return async (req: Request, res: Response, next: NextFunction) => {
    // req.url is relative to the mount point. A path that normalises differently ("..", "%2e")
    // could leave /v2/ upstream: not ours to forward.
    const raw = req.url.split('?')[0];
    const normalised = new URL(req.url, 'http://proxy');
    if (normalised.pathname !== raw || !raw.startsWith('/v2/')) return next();
    const path = normalised.pathname + normalised.search;
    let body: Buffer | undefined = Buffer.alloc(0);
    if (!BODYLESS.has(req.method)) {
      body = await readBody(req).catch(() => undefined);
      if (!body) return sendProblem(res, toProblem(new ProxiedBodyTooLarge()));
    }
    const headers: Record<string, string> = {};
    for (const name of REQUEST_HEADERS) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    headers['content-length'] = String(body.length);
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    const upstream = send({ protocol: base.protocol, hostname: base.hostname, port: base.port, method: req.method, path, headers, timeout: 15_000 }, (answer: IncomingMessage) => {
      res.status(answer.statusCode ?? 502);
      for (const name of RESPONSE_HEADERS) {
        const v = answer.headers[name];
        if (v !== undefined) res.setHeader(name, v);
      }
      answer.pipe(res);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy(); // the browser went away: so does the upstream request
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', (err) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      logger.warn(`approval service at ${base.origin} unreachable: ${err.message}`);
      res.setHeader('Retry-After', '5');
      sendProblem(res, toProblem(new ApprovalServiceUnavailable()));
    });
    upstream.end(body);
  };
}

/**
 * The dashboard on the config service's origin: the built single-page app at `/` (with a strict
 * content security policy) and the approval API under `/approval-api`. Mounted before the JSON
 * body parser, so proxied bodies pass through untouched.
 */
export function mountDashboard(app: INestApplication, opts: { approvalServiceUrl: string; dir?: string }): void {
  const dir = opts.dir ? resolve(opts.dir) : dashboardDir();
  app.use(APPROVAL_API_PREFIX, approvalProxy(opts.approvalServiceUrl));
  const files = express.static(dir, {
    index: 'index.html',
    redirect: false,
    fallthrough: true,
    setHeaders(res, file) {
      res.setHeader('Cache-Control', file.includes(`${join(dir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const security = (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    next();
  };
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const isPage = req.path === '/' || req.path === '/index.html';
    if (!isPage && !req.path.startsWith('/assets/') && req.path !== '/favicon.svg') return next();
    security(req, res, () => {
      if (isPage && !existsSync(join(dir, 'index.html'))) {
        res.status(503).type('text/plain').send('The dashboard is not built: run `npm run build`.');
        return;
      }
      files(req, res, next);
    });
  });
}
