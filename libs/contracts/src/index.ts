export * from './topics';
export * from './common';
export * from './requests';
export * from './events';
export * from './audit';
export * from './ids';
export * from './validation';
export * from './catalogue';
