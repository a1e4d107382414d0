/**
 * Creates every Kafka topic of the contracts catalogue (TOPIC_CATALOGUE). Idempotent:
 * existing topics are kept, topics with fewer partitions than the catalogue are grown
 * (partitions can never shrink), compacted topics get cleanup.policy=compact.
 *
 *   npx tsx infra/local/topics.ts     (from the repo root; broker from KAFKA_BROKERS,
 *                                      default 127.0.0.1:19092)
 *
 * The replication factor is the broker's default.replication.factor (1 locally) unless
 * KAFKA_REPLICATION_FACTOR is set.
 *
 * The catalogue is imported from its source file rather than `@airlock/contracts`, so this
 * script depends only on the topic list (not on the rest of the contracts library) and needs no
 * path-alias resolution.
 */
import { ConfigResourceTypes, Kafka, logLevel, type ITopicConfig } from 'kafkajs';
import { TOPIC_CATALOGUE, type TopicSpec } from '../../libs/contracts/src/topics';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b.length > 0);
const replicationFactor = Number(process.env.KAFKA_REPLICATION_FACTOR ?? -1);

function topicConfig(spec: TopicSpec): ITopicConfig {
  return {
    topic: spec.name,
    numPartitions: spec.partitions,
    replicationFactor,
    configEntries: spec.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
  };
}

async function main(): Promise<void> {
  const kafka = new Kafka({
    clientId: 'airlock-infra-topics',
    brokers,
    logLevel: logLevel.ERROR,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPIC_CATALOGUE.filter((spec) => !existing.has(spec.name));
    const present = TOPIC_CATALOGUE.filter((spec) => existing.has(spec.name));

    if (missing.length > 0) {
      // Returns false when a topic appeared meanwhile (another run): still fine.
      await admin.createTopics({ topics: missing.map(topicConfig), waitForLeaders: true, timeout: 30_000 });
    }

    const grown: string[] = [];
    const warnings: string[] = [];
    if (present.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.name) });
      const partitionsOf = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
      const toGrow = present.filter((spec) => (partitionsOf.get(spec.name) ?? 0) < spec.partitions);
      for (const spec of present) {
        const actual = partitionsOf.get(spec.name) ?? 0;
        if (actual > spec.partitions) {
          warnings.push(`${spec.name} has ${actual} partitions, more than the catalogue's ${spec.partitions} (kept)`);
        }
      }
      if (toGrow.length > 0) {
        await admin.createPartitions({
          topicPartitions: toGrow.map((spec) => ({ topic: spec.name, count: spec.partitions })),
          timeout: 30_000,
        });
        for (const spec of toGrow) grown.push(`${spec.name} ${partitionsOf.get(spec.name)}->${spec.partitions}`);
      }
    }

    // Verify the end state: every catalogue topic exists with at least its partitions, each led.
    const final = await admin.fetchTopicMetadata({ topics: TOPIC_CATALOGUE.map((spec) => spec.name) });
    const finalByName = new Map(final.topics.map((t) => [t.name, t.partitions]));
    for (const spec of TOPIC_CATALOGUE) {
      const partitions = finalByName.get(spec.name) ?? [];
      if (partitions.length < spec.partitions) {
        throw new Error(`${spec.name} has ${partitions.length} partitions, expected ${spec.partitions}`);
      }
      if (partitions.some((p) => p.leader < 0)) {
        throw new Error(`${spec.name} has a partition without a leader`);
      }
    }

    // Compaction drift on pre-existing topics is reported, not silently changed.
    const compacted = present.filter((spec) => spec.compacted);
    if (compacted.length > 0) {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: compacted.map((spec) => ({
          type: ConfigResourceTypes.TOPIC,
          name: spec.name,
          configNames: ['cleanup.policy'],
        })),
      });
      for (const resource of resources) {
        const policy = resource.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
        if (!policy?.split(',').includes('compact')) {
          warnings.push(`${resource.resourceName} should be compacted but has cleanup.policy=${policy ?? 'unknown'}`);
        }
      }
    }

    for (const warning of warnings) console.warn(`[topics] WARNING: ${warning}`);
    const totalPartitions = TOPIC_CATALOGUE.reduce((sum, spec) => sum + spec.partitions, 0);
    console.log(
      `[topics] ${TOPIC_CATALOGUE.length} catalogue topics (${totalPartitions} partitions) on ${brokers.join(',')}: ` +
        `${missing.length} created, ${present.length - grown.length} already present` +
        (grown.length > 0 ? `, partitions added: ${grown.join(', ')}` : ', 0 grown'),
    );
  } finally {
    await admin.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`[topics] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
