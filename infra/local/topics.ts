/**
 * Creates every Kafka topic of the contracts catalogue (TOPIC_CATALOGUE) and the broker ACLs
 * generated from it (kafkaAcls: who writes, who reads, which consumer groups), so a topic never
 * exists without its ACLs. Idempotent: existing topics are kept, topics with fewer partitions than
 * the catalogue are grown (partitions can never shrink), compacted topics get
 * cleanup.policy=compact; missing ACLs are created and topic ACLs of Airlock's principals that the
 * catalogue no longer grants are deleted. Runs as the admin (infra/local/kafka-client.ts).
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
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ConfigResourceTypes,
  Kafka,
  ResourcePatternTypes,
  logLevel,
  type Admin,
  type ITopicConfig,
} from 'kafkajs';
import { TOPIC_CATALOGUE, type TopicSpec } from '../../libs/contracts/src/topics';
import { aclKey, kafkaAcls, type KafkaAcl } from '../../libs/contracts/src/kafka-acls';
import { adminSasl, brokers } from './kafka-client';

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
    sasl: adminSasl(),
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

    const acls = await syncAcls(admin);

    for (const warning of warnings) console.warn(`[topics] WARNING: ${warning}`);
    const totalPartitions = TOPIC_CATALOGUE.reduce((sum, spec) => sum + spec.partitions, 0);
    console.log(
      `[topics] ${TOPIC_CATALOGUE.length} catalogue topics (${totalPartitions} partitions) on ${brokers.join(',')}: ` +
        `${missing.length} created, ${present.length - grown.length} already present` +
        (grown.length > 0 ? `, partitions added: ${grown.join(', ')}` : ', 0 grown') +
        `; ${acls.total} ACLs (${acls.created} created, ${acls.deleted} deleted)`,
    );
  } finally {
    await admin.disconnect();
  }
}

const OPERATIONS = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
} as const;

export function toKafkajsAcl(acl: KafkaAcl) {
  return {
    resourceType: acl.resourceType === 'TOPIC' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: acl.resourceName,
    resourcePatternType: acl.patternType === 'LITERAL' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    principal: `User:${acl.principal}`,
    host: '*',
    operation: OPERATIONS[acl.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** Makes the broker's ACLs those of the catalogue. */
async function syncAcls(admin: Admin): Promise<{ total: number; created: number; deleted: number }> {
  const wanted = kafkaAcls({
    groupPrefix: process.env.KAFKA_GROUP_PREFIX ?? 'airlock',
    siemGroupPrefix: process.env.AIRLOCK_SIEM_GROUP_PREFIX ?? 'siem',
  });
  const existing = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const have = new Set<string>();
  const stale: Parameters<Admin['deleteAcls']>[0]['filters'] = [];
  const wantedKeys = new Set(wanted.map(aclKey));
  const operationName = new Map(Object.entries(OPERATIONS).map(([k, v]) => [v as number, k]));
  for (const resource of existing.resources) {
    for (const entry of resource.acls) {
      const op = operationName.get(entry.operation);
      const type =
        resource.resourceType === AclResourceTypes.TOPIC
          ? 'TOPIC'
          : resource.resourceType === AclResourceTypes.GROUP
            ? 'GROUP'
            : undefined;
      const pattern = resource.resourcePatternType === ResourcePatternTypes.LITERAL ? 'LITERAL' : 'PREFIXED';
      if (!op || !type || entry.permissionType !== AclPermissionTypes.ALLOW || entry.host !== '*') continue;
      const key = [entry.principal.replace(/^User:/, ''), type, pattern, resource.resourceName, op].join(' ');
      have.add(key);
      // Topic rights the catalogue no longer gives are taken back; groups of test runs are left alone.
      if (type === 'TOPIC' && !wantedKeys.has(key)) {
        stale.push({
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          resourcePatternType: resource.resourcePatternType,
          principal: entry.principal,
          host: entry.host,
          operation: entry.operation,
          permissionType: entry.permissionType,
        });
      }
    }
  }
  const missing = wanted.filter((acl) => !have.has(aclKey(acl)));
  if (missing.length > 0) await admin.createAcls({ acl: missing.map(toKafkajsAcl) });
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  return { total: wanted.length, created: missing.length, deleted: stale.length };
}

main().catch((error: unknown) => {
  console.error(`[topics] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
