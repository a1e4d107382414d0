export * from './cluster-metrics';
export * from './metrics';
export * from './metrics.controller';
export * from './tracing';
