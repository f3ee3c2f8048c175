export * from './secret-box';
export * from './signature';
export * from './tokens';
export * from './secrets.module';
