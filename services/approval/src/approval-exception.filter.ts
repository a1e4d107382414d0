import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { answerError } from '@airlock/identity';
import { ApprovalAudit, AUDIT_SOURCE } from './publishing/approval-audit.service';

/**
 * The one place where errors become answers: over HTTP a JSON `{error, message}` with a stable
 * code, over Kafka an error reply with the public message (the ingress then refuses). Unknown
 * errors are logged and answered generically. Refused tokens and callers outside an approval's
 * groups are audited.
 */
@Catch()
export class ApprovalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApprovalExceptionFilter.name);

  constructor(private readonly audit: ApprovalAudit) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> | Observable<never> {
    return answerError(exception, host, {
      logger: this.logger,
      publish: (event) => this.audit.emit(event),
      source: AUDIT_SOURCE,
      api: 'approval API',
      rpcUnexpected: 'unexpected error answering an approval request',
    });
  }
}
