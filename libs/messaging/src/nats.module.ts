import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { loadEnv } from '@app/config';
import { connectNats } from './nats-connection';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const InjectNats = () => Inject(NATS_CONNECTION);

@Injectable()
class NatsCloser implements OnApplicationShutdown {
  constructor(@InjectNats() private readonly nc: NatsConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/** One NATS connection per app process, drained on shutdown. */
@Global()
@Module({
  providers: [
    { provide: NATS_CONNECTION, useFactory: () => connectNats(loadEnv().natsUrl, process.env.NATS_CLIENT_NAME ?? 'webhooks') },
    NatsCloser,
  ],
  exports: [NATS_CONNECTION],
})
export class NatsModule {}
