export * from './jetstream-server';
export * from './jetstream-context';
export * from './rethrow-rpc-errors.filter';
