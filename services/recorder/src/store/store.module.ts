import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RECORDER_CONFIG, type RecorderConfig } from '../config';
import { ownerOptions, roleOf, writerOptions } from './store.options';
import { prepareStore } from './store-setup';

/** The owner's connection, or null when DATABASE_OWNER_URL is not set. */
export const OWNER_DATA_SOURCE = Symbol('OWNER_DATA_SOURCE');

/**
 * Two connections: the recorder's own (INSERT and SELECT, the default TypeORM data source) and,
 * when configured, the owner's, which migrates and grants at start and later drops partitions.
 */
@Global()
@Module({})
export class StoreModule implements OnApplicationShutdown {
  private readonly logger = new Logger(StoreModule.name);

  constructor(@Inject(OWNER_DATA_SOURCE) private readonly owner: DataSource | null) {}

  static forConfig(config: RecorderConfig): DynamicModule {
    return {
      module: StoreModule,
      imports: [TypeOrmModule.forRoot({ ...writerOptions(config), retryAttempts: 3, retryDelay: 1000 })],
      providers: [
        {
          provide: OWNER_DATA_SOURCE,
          inject: [RECORDER_CONFIG],
          useFactory: async (c: RecorderConfig): Promise<DataSource | null> => {
            if (c.DATABASE_OWNER_URL === undefined) return null;
            const owner = await new DataSource(
              ownerOptions({ ...c, DATABASE_OWNER_URL: c.DATABASE_OWNER_URL }),
            ).initialize();
            try {
              await prepareStore(owner, roleOf(c.DATABASE_URL));
            } catch (err) {
              await owner.destroy();
              throw err;
            }
            return owner;
          },
        },
      ],
      exports: [OWNER_DATA_SOURCE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.owner?.isInitialized) {
      await this.owner
        .destroy()
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'owner connection close'));
    }
  }
}
