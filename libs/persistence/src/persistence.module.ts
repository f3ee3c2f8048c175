import { Global, Injectable, Module, OnModuleInit, Optional } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { EntityManager } from '@mikro-orm/postgresql';
import { Readiness } from '@app/http-common';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { AppConfig } from '@app/config';
import { ormConfig } from './orm-config';

@Injectable()
class DatabaseReadiness implements OnModuleInit {
  constructor(
    private readonly em: EntityManager,
    @Optional() private readonly readiness?: Readiness,
  ) {}

  onModuleInit(): void {
    this.readiness?.register('database', () => this.em.getConnection().execute('select 1'));
  }
}

/** The MikroORM connection, one per app process, part of /health. Migrations run separately (`npm run migrate`). */
@Global()
@Module({
  providers: [DatabaseReadiness],
  imports: [
    MikroOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...ormConfig(config.databaseUrl), registerRequestContext: true }),
      driver: PostgreSqlDriver,
    }),
  ],
})
export class PersistenceModule {}
