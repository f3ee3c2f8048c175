export * from './env';
export * from './variables';
export * from './app-config.module';
export * from './logging.module';
