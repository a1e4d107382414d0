export * from './sealing';
export * from './signing';
