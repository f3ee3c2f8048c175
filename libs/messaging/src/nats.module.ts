import { Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { AppConfig } from '@app/config';
import { Readiness } from '@app/http-common';
import { connectNats } from './nats-connection';
import { loopsDown } from './loop-health';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const InjectNats = () => Inject(NATS_CONNECTION);

@Injectable()
class NatsCloser implements OnApplicationShutdown, OnModuleInit {
  constructor(
    @InjectNats() private readonly nc: NatsConnection,
    @Optional() private readonly readiness?: Readiness,
  ) {}

  onModuleInit(): void {
    this.readiness?.register('nats', () => {
      if (this.nc.isClosed()) throw new Error('closed');
      return this.nc.flush();
    });
    this.readiness?.register('loops', () => {
      const down = loopsDown();
      if (down.length) throw new Error(`down: ${down.join(', ')}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/** One NATS connection per app process, part of /health, drained on shutdown. */
@Global()
@Module({
  providers: [
    { provide: NATS_CONNECTION, inject: [AppConfig], useFactory: (config: AppConfig) => connectNats(config.natsUrl, config.natsClientName, config.nats) },
    NatsCloser,
  ],
  exports: [NATS_CONNECTION],
})
export class NatsModule {}
