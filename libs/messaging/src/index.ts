export * from './kafka';
export * from './errors';
export * from './headers';
export * from './request-reply.client';
export * from './audit.publisher';
export * from './nest';
export * from './kafka-producer';
export * from './message-trust';
