import { Controller, Inject, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics } from '@airlock/contracts';
import { consumeEvent, messageRejectedEvent, type MessageSecurity } from '@airlock/messaging';
import { AuditService } from '../audit/audit.service';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { ApprovalClient } from './approval.client';

@Controller()
export class ApprovalEventsHandler {
  private readonly logger = new Logger(ApprovalEventsHandler.name);
  /** A decision releases a held operation only when the approval service signed it. */
  private readonly security: MessageSecurity;

  constructor(
    private readonly approvals: ApprovalClient,
    audit: AuditService,
    @Inject(INGRESS_CONFIG) config: Pick<IngressConfig, 'TRUSTED_KEYS_FILE'>,
  ) {
    this.security = {
      trust: config.TRUSTED_KEYS_FILE,
      onRejected: (rejected) => audit.emitAfter(messageRejectedEvent('ingress-proxy', rejected)),
    };
  }

  @EventPattern(Topics.ApprovalDecided)
  decided(@Payload() payload: unknown): Promise<void> {
    return consumeEvent(Topics.ApprovalDecided, payload, this.logger, (e) => this.approvals.decided(e), this.security);
  }
}
