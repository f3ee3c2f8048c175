export * from './backoff';
export * from './ssrf-guard';
export * from './http-sender';
export * from './oauth-token-provider';
export * from './consumer-window-limiter';
