import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { RetentionService } from './retention.service';

/** Response header that tells API clients how far back events, deliveries and attempts go. */
export const RETENTION_HEADER = 'Webhooks-Retention-Days';

@Injectable()
export class RetentionHeader implements NestMiddleware {
  constructor(private readonly retention: RetentionService) {}

  use(_req: Request, res: Response, next: NextFunction): void {
    res.setHeader(RETENTION_HEADER, String(this.retention.days));
    next();
  }
}
