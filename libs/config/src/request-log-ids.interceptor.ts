import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const WEBHOOK_PATH = new RegExp(`/v2/webhooks/(${UUID})`);
const EVENT_PATH = new RegExp(`/v2/events/(${UUID})`);

type Req = IncomingMessage & { id?: unknown; originalUrl?: string; principal?: { accountId?: string } };

/** The ids a request is about: the signed-in account, and the webhook or event of its path. */
export function requestIds(req: Req): Record<string, string> {
  const out: Record<string, string> = {};
  const path = req.originalUrl ?? req.url ?? '';
  if (req.principal?.accountId) out.account_id = req.principal.accountId;
  const webhook = WEBHOOK_PATH.exec(path)?.[1];
  if (webhook) out.webhook_id = webhook.toLowerCase();
  const event = EVENT_PATH.exec(path)?.[1];
  if (event) out.event_id = event.toLowerCase();
  return out;
}

/**
 * Binds the request's ids (the signed-in account, the webhook or event of its path) to every line
 * logged while it is handled, as request_id already is. Interceptors run after the auth guard, so
 * the account is known here.
 */
@Injectable()
export class RequestLogIds implements NestInterceptor {
  constructor(private readonly logger: PinoLogger) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() === 'http') {
      const ids = requestIds(ctx.switchToHttp().getRequest());
      if (Object.keys(ids).length) this.logger.assign(ids);
    }
    return next.handle();
  }
}
