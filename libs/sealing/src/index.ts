export * from './sealing';
