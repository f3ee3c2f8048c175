import { Global, Module } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { loadEnv } from '@app/config';
import { ormConfig } from './orm-config';

/** The MikroORM connection, one per app process. Migrations run separately (`npm run migrate`). */
@Global()
@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      useFactory: () => ({ ...ormConfig(loadEnv().databaseUrl), registerRequestContext: true }),
      driver: PostgreSqlDriver,
    }),
  ],
})
export class PersistenceModule {}
