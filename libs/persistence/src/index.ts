export * from './entities';
export * from './orm-config';
export * from './migrate';
export * from './persistence.module';
export * from './accounts-admin';
export * from './repartition-deliveries';
export * from './database-readiness';
export * from './repositories';
