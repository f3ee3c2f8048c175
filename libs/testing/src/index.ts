export * from './test-database';
export * from './nats-server';
export * from './http-client';
export * from './platform';
export * from './tls';
export * from './https-consumer';
export * from './delivery-node-process';
export * from './webhooks-kv';
