import { Inject, Injectable } from '@nestjs/common';
import { ApprovalDecidedSchema, Topics, parseContract, type ApprovalDecided } from '@airlock/contracts';
import { KafkaProducer, MessagingError } from '@airlock/messaging';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';

/** Tells the waiting ingress (and the recorder), on `airlock.approval.decided`, how an approval ended. */
@Injectable()
export class DecisionPublisher {
  constructor(
    private readonly producer: KafkaProducer,
    @Inject(APPROVAL_CONFIG) private readonly config: Pick<ApprovalConfig, 'AUDIT_TIMEOUT_MS' | 'SIGNING_KEY_FILE'>,
  ) {}

  /** Resolves once the broker has the event; rejects with a `MessagingError` otherwise. */
  async decided(decision: ApprovalDecided): Promise<ApprovalDecided> {
    const event = parseContract(Topics.ApprovalDecided, ApprovalDecidedSchema, decision);
    const timeoutMs = this.config.AUDIT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.producer.producer.send({
          topic: Topics.ApprovalDecided,
          acks: -1,
          timeout: timeoutMs,
          // Signed: the ingress releases a held operation only on the approval service's word.
          messages: [
            {
              key: event.approvalId,
              value: JSON.stringify(this.config.SIGNING_KEY_FILE.sign({ topic: Topics.ApprovalDecided }, event)),
            },
          ],
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no broker acknowledgement within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (cause) {
      throw new MessagingError('broker', 'decision event could not be published', { cause });
    } finally {
      clearTimeout(timer);
    }
    return event;
  }
}
