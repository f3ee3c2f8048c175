export * from './registered-metric';
