import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { answerError } from '@airlock/identity';
import { AUDIT_SOURCE, RecorderAudit } from './publishing/recorder-audit.service';

/**
 * The one place where errors become answers: over HTTP a JSON `{error, message}` with a stable
 * code. Internals never reach the caller; unknown errors are logged (message and stack only)
 * and answered generically. Refused credentials and callers outside the auditor group are
 * themselves audited: who tried to read the audit trail is part of it.
 */
@Catch()
export class RecorderExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(RecorderExceptionFilter.name);

  constructor(private readonly audit: RecorderAudit) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> | Observable<never> {
    return answerError(exception, host, {
      logger: this.logger,
      publish: (event) => this.audit.emit(event),
      source: AUDIT_SOURCE,
      api: 'audit API',
      rpcUnexpected: 'unexpected error handling an event',
    });
  }
}
