import { Global, Module } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { AppConfig } from '@app/config';
import { DatabaseReadiness } from './database-readiness';
import { ormConfig } from './orm-config';

/** The MikroORM connection, one per app process, and its readiness probe. Migrations run separately (`npm run migrate`). */
@Global()
@Module({
  providers: [DatabaseReadiness],
  exports: [DatabaseReadiness],
  imports: [
    MikroOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...ormConfig(config.databaseUrl), registerRequestContext: true }),
      driver: PostgreSqlDriver,
    }),
  ],
})
export class PersistenceModule {}
