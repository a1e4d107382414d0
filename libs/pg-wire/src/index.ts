export * from './errors';
export * from './framing';
export * from './frontend';
export * from './backend';
export * from './auth';
