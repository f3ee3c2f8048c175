export * from './sql-database';
export * from './accounts.repository';
export * from './webhooks.repository';
export * from './events.repository';
export * from './deliveries.repository';
export * from './delivery-attempts.repository';
export * from './expired-rows.repository';
