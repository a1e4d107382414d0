export * from './token-rejected.error';
export * from './identity-config';
export * from './verification-cache';
export * from './token-verifier';
export * from './identity.constants';
export * from './jwt.strategy';
export * from './jwt-auth.guard';
export * from './identity.module';
