export * from './idp/idp-keys';
export * from './idp/test-token-signer';
export * from './idp/test-identity-provider';
export * from './upstream/echo-upstream';
export * from './harness/wait';
export * from './harness/infra';
export * from './harness/service-process';
export * from './harness/databases';
