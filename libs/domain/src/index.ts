export * from './event-catalogue';
export * from './errors';
export * from './webhook';
export * from './roles';
export * from './event-validation';
export * from './storable-text';
export * from './json-depth';
export * from './uuid';
