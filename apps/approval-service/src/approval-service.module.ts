import { Module, OnModuleInit } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { NatsConnection } from 'nats';
import { AuthModule } from '@app/auth';
import { ObservabilityModule, Readiness } from '@app/http-common';
import { InjectNats, NatsModule } from '@app/messaging';
import { PersistenceModule } from '@app/persistence';

@Module({
  imports: [PersistenceModule, NatsModule, AuthModule, ObservabilityModule],
})
export class ApprovalServiceModule implements OnModuleInit {
  constructor(
    private readonly readiness: Readiness,
    private readonly em: EntityManager,
    @InjectNats() private readonly nc: NatsConnection,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', () => this.em.getConnection().execute('select 1'));
    this.readiness.register('nats', () => this.nc.flush());
  }
}
