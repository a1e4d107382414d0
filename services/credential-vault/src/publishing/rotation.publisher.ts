import { Inject, Injectable } from '@nestjs/common';
import { Topics, VaultRotatedSchema, parseContract, type VaultRotated } from '@airlock/contracts';
import { KafkaProducer, MessagingError } from '@airlock/messaging';
import { CLOCK, type Clock } from '../clock';
import { VAULT_CONFIG, type VaultStoreConfig } from '../config';
import { rotations } from '../vault-metrics';

/** Tells every ingress, on `airlock.vault.rotated`, to drop its cached lease of a connection. */
@Injectable()
export class RotationPublisher {
  constructor(
    private readonly producer: KafkaProducer,
    @Inject(VAULT_CONFIG) private readonly config: VaultStoreConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async rotated(connection: string, secretVersion: number): Promise<VaultRotated> {
    const event = parseContract(Topics.VaultRotated, VaultRotatedSchema, {
      connection,
      secretVersion,
      rotatedAt: new Date(this.clock()).toISOString(),
    });
    const timeoutMs = this.config.AUDIT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.producer.producer.send({
          topic: Topics.VaultRotated,
          acks: -1,
          timeout: timeoutMs,
          messages: [{ key: connection, value: JSON.stringify(event) }],
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no broker acknowledgement within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (cause) {
      throw new MessagingError('broker', 'rotation event could not be published', { cause });
    } finally {
      clearTimeout(timer);
    }
    rotations.labels(connection).inc();
    return event;
  }
}
