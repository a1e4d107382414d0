/** Header names of @nestjs/microservices' Kafka transport, plus Airlock's own. */
export const NestKafkaHeaders = {
  CorrelationId: 'kafka_correlationId',
  ReplyTopic: 'kafka_replyTopic',
  ReplyPartition: 'kafka_replyPartition',
  Error: 'kafka_nest-err',
  /** Epoch ms after which the caller has given up; a late server skips the work. */
  Deadline: 'airlock-deadline',
} as const;
