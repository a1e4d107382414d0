import { Controller, Get } from '@nestjs/common';
import { AuditConsumer } from './audit.consumer';

/** Ingest counters (no event content): what operators and tests watch for lag and redelivery. */
@Controller('audit')
export class AuditController {
  constructor(private readonly consumer: AuditConsumer) {}

  @Get('stats')
  stats(): AuditConsumer['stats'] {
    return { ...this.consumer.stats };
  }
}
