import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { answerError } from '@airlock/identity';
import { AUDIT_SOURCE, VaultAudit } from './publishing/vault-audit.service';

/**
 * The one place where errors become answers: over HTTP a JSON `{error, message}` with a stable
 * code, over Kafka an error reply with the public message. Internals never reach the caller;
 * unknown errors are logged (message and stack only, never a request body) and answered
 * generically. Refused credentials and callers outside the admin group are audited.
 */
@Catch()
export class VaultExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(VaultExceptionFilter.name);

  constructor(private readonly audit: VaultAudit) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> | Observable<never> {
    return answerError(exception, host, {
      logger: this.logger,
      publish: (event) => this.audit.emit(event),
      source: AUDIT_SOURCE,
      api: 'admin',
    });
  }
}
