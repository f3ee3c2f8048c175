export * from './test-database';
export * from './nats-server';
export * from './http-client';
export * from './platform';
