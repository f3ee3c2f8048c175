export * from './problem';
export * from './problem.filter';
export * from './validation';
export * from './pagination';
export * from './bootstrap';
export * from './validators';
export * from './observability';
