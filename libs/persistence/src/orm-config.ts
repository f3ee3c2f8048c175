import { Logger } from '@nestjs/common';
import { defineConfig, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { withSessionOptions } from './session-options';

/** knex writes pool and connection trouble with console.log; it goes through the app's logger instead. */
const knexLogger = new Logger('Database');
const knexLog = {
  warn: (m: unknown) => knexLogger.warn(String(m)),
  error: (m: unknown) => knexLogger.error(String(m)),
  deprecate: () => undefined,
  debug: () => undefined,
};

export function ormConfig(databaseUrl: string, extra: { debug?: boolean; poolMax?: number } = {}) {
  return defineConfig({
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    entities: ENTITIES,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    debug: extra.debug ?? false,
    pool: { min: 0, max: extra.poolMax ?? 10 },
    // Bounded waits when PostgreSQL is unreachable: a connect that gets no answer fails after 5 s
    // (instead of hanging on a black-holed address) and so does waiting for a pooled connection
    // after 15 s, so callers see an error they can map to 503 and retry.
    // The URL itself also goes to the driver: MikroORM takes only host, port, user, password and
    // database from it, so its other parameters (sslmode, options, application_name) were dropped.
    driverOptions: { connection: { connectionString: withSessionOptions(databaseUrl), connectionTimeoutMillis: 5_000 }, acquireConnectionTimeout: 15_000, log: knexLog },
    migrations: { silent: true, migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, tableName: 'mikro_orm_migrations' },
  });
}
