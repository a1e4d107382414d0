export * from './config';
export * from './logging';
export * from './health';
export * from './bootstrap';
export * from './http-errors';
export * from './openapi';
export * from './node-flags';
