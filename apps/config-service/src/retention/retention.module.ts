import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { RetentionHeader } from './retention-header.middleware';
import { RetentionMetrics } from './retention-metrics';
import { RetentionService } from './retention.service';

/** Prunes events, deliveries and attempts past RETENTION_DAYS, and says so on the routes that list them. */
@Module({ providers: [RetentionService, RetentionMetrics] })
export class RetentionModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(RetentionHeader)
      .forRoutes(
        { path: 'v2/events', method: RequestMethod.GET },
        { path: 'v2/events/:id', method: RequestMethod.GET },
        { path: 'v2/webhooks/:id/deliveries', method: RequestMethod.GET },
      );
  }
}
