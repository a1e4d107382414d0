import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { PolicyChangedSchema, Topics, parseContract } from '@airlock/contracts';
import { KAFKA } from '../kafka.provider';

@Injectable()
export class PolicyChangePublisher implements OnApplicationShutdown {
  private producer?: Producer;

  constructor(@Inject(KAFKA) private readonly kafka: Kafka) {}

  async publish(policyId: string, version: string): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await this.producer.connect();
    }
    const event = parseContract(Topics.PolicyChanged, PolicyChangedSchema, {
      policyId,
      version,
      changedAt: new Date().toISOString(),
    });
    await this.producer.send({
      topic: Topics.PolicyChanged,
      acks: -1,
      messages: [{ key: policyId, value: JSON.stringify(event) }],
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer?.disconnect();
  }
}
