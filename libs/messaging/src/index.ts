export * from './names';
export * from './nats-connection';
export * from './webhooks-kv';
export * from './nats.module';
export * from './streams';
export * from './event-message';
export * from './event-publisher';
export * from './cluster-settings';
