export * from './names';
export * from './nats-connection';
export * from './webhooks-kv';
export * from './nats.module';
