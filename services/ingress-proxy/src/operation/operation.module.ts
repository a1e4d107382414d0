import { Module } from '@nestjs/common';
import { OperationPipeline } from './pipeline';

/**
 * The operation pipeline every protocol adapter calls. Its dependencies (policy, audit, masking,
 * approvals) come from the application module, which exports them to every feature module.
 */
@Module({
  providers: [OperationPipeline],
  exports: [OperationPipeline],
})
export class OperationModule {}
