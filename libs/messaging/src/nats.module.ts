import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { connectNats } from './nats-connection';
import { InjectNats, NATS_CONNECTION } from './nats-connection-token';
import { LoopsReadiness, NatsReadiness } from './readiness';

export { InjectNats, NATS_CONNECTION } from './nats-connection-token';

@Injectable()
class NatsCloser implements OnApplicationShutdown {
  constructor(@InjectNats() private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/** One NATS connection per app process, drained on shutdown; its readiness probes are exported for the HTTP layer. */
@Global()
@Module({
  providers: [
    { provide: NATS_CONNECTION, inject: [AppConfig], useFactory: (config: AppConfig) => connectNats(config.natsUrl, config.natsClientName, config.nats) },
    NatsCloser,
    NatsReadiness,
    LoopsReadiness,
  ],
  exports: [NATS_CONNECTION, NatsReadiness, LoopsReadiness],
})
export class NatsModule {}
