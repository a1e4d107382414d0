import { Module } from '@nestjs/common';
import { OperationModule } from '../operation/operation.module';
import { PgGatewayService } from './pg-gateway.service';
import { PgToolPortService } from './pg-tool-port';
import { SQL_TOOL_PORT } from '../tool-ports/tool-ports';

/** The PostgreSQL adapter: its own listener speaking the wire protocol (see PgGatewayService). */
@Module({
  imports: [OperationModule],
  providers: [PgGatewayService, PgToolPortService, { provide: SQL_TOOL_PORT, useExisting: PgToolPortService }],
  // SQL_TOOL_PORT: how the MCP adapter runs query and describe_database calls here (see tool-ports).
  exports: [SQL_TOOL_PORT],
})
export class PostgresAdapterModule {}
