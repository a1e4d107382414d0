import { Module } from '@nestjs/common';
import { OperationModule } from '../operation/operation.module';
import { PgGatewayService } from './pg-gateway.service';

/** The PostgreSQL adapter: its own listener speaking the wire protocol (see PgGatewayService). */
@Module({
  imports: [OperationModule],
  providers: [PgGatewayService],
})
export class PostgresAdapterModule {}
