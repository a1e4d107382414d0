import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { KAFKA } from './nest';

/**
 * A service's one Kafka producer for the events it publishes (audit, rotations, decisions):
 * connected when the module starts, disconnected when the application stops.
 */
@Injectable()
export class KafkaProducer implements OnModuleInit, OnApplicationShutdown {
  readonly producer: Producer;

  constructor(@Inject(KAFKA) kafka: Kafka) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }
}
