export * from './partition-of';
export * from './rendezvous';
export * from './capped-rendezvous';
