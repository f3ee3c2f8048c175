import { Module, OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { ObservabilityModule, Readiness } from '@app/http-common';
import { InjectNats, NatsModule } from '@app/messaging';

@Module({
  imports: [NatsModule, ObservabilityModule],
})
export class DeliveryNodeModule implements OnModuleInit {
  constructor(
    private readonly readiness: Readiness,
    @InjectNats() private readonly nc: NatsConnection,
  ) {}

  onModuleInit(): void {
    this.readiness.register('nats', () => this.nc.flush());
  }
}
