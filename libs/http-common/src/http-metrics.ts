import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram, Registry } from 'prom-client';

/** Label of a request no route answered (static files, unknown paths): never the raw path, which is unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

/** API requests by method, route template (`/v2/webhooks/:id`) and status; the histogram's `_count` counts them. */
@Injectable()
export class HttpMetrics {
  readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Express middleware: times every answer once it is sent, labelled by the route that matched. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const labels = { method: req.method, route: routeTemplate(req), status: String(res.statusCode) };
        this.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    };
  }
}

function routeTemplate(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  // Nest's catch-all for unknown paths is a route too; it is not a template worth a series.
  if (typeof path !== 'string' || path.includes('{*')) return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${path}`;
}
