export * from './partition-of';
export * from './rendezvous';
