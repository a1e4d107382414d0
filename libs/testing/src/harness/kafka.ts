import { Kafka, logLevel } from 'kafkajs';
import { infraEnv } from './infra';

/**
 * Messages on `topic` that consumer group `groupId` has not committed yet, over the partitions
 * where it has committed at all (a group that started at the end has nothing to commit on a
 * partition that got no message since). Undefined when it has committed nothing.
 */
export async function consumerLag(groupId: string, topic: string): Promise<number | undefined> {
  const admin = new Kafka({
    clientId: 'airlock-test-lag',
    brokers: infraEnv().KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    let lag: number | undefined;
    for (const end of ends) {
      const c = committed.partitions.find((p) => p.partition === end.partition);
      if (!c || Number(c.offset) < 0) continue;
      lag = (lag ?? 0) + Number(end.high) - Number(c.offset);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
