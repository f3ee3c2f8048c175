export * from './env';
export * from './variables';
