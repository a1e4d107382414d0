import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AuditPipelineModule } from '../audit/audit-pipeline.module';
import type { RecorderConfig } from '../config';
import { recorderCore } from '../recorder-core';

/**
 * What a pipeline thread runs: one audit pipeline with its own store connection and Kafka
 * client. No HTTP, checkpoints, maintenance or migrations: the main thread has those, and has
 * migrated the store before it starts the thread.
 */
@Global()
@Module({})
export class PipelineModule {
  /** `pipeline`: its number (1, 2, ...; the main thread's is 0), on each of its log lines. */
  static forConfig(config: RecorderConfig, pipeline: number): DynamicModule {
    const core = recorderCore({ ...config, DATABASE_OWNER_URL: undefined }, { pipeline });
    return {
      module: PipelineModule,
      imports: [...core.imports, AuditPipelineModule],
      providers: core.providers,
      exports: core.exports,
    };
  }
}
