import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  ResourcePatternTypes,
  logLevel,
} from 'kafkajs';
import { groupAcl, type KafkaPrincipal } from '@airlock/contracts';
import { kafkaClientConfig } from './infra';

/**
 * Lets a service principal use consumer groups under a test run's own group prefix (the broker
 * grants each service the groups `<prefix>-<service>...`; infra/local grants the default prefix).
 */
export async function allowTestGroups(principal: Exclude<KafkaPrincipal, 'admin'>, groupPrefix: string): Promise<void> {
  const acl = groupAcl(principal, { groupPrefix });
  const admin = new Kafka({ ...kafkaClientConfig('airlock-test-acls'), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createAcls({
      acl: [
        {
          resourceType: AclResourceTypes.GROUP,
          resourceName: acl.resourceName,
          resourcePatternType: ResourcePatternTypes.PREFIXED,
          principal: `User:${principal}`,
          host: '*',
          operation: AclOperationTypes.READ,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Messages on `topic` that consumer group `groupId` has not committed yet, over the partitions
 * where it has committed at all (a group that started at the end has nothing to commit on a
 * partition that got no message since). Undefined when it has committed nothing.
 */
export async function consumerLag(groupId: string, topic: string): Promise<number | undefined> {
  const admin = new Kafka({ ...kafkaClientConfig('airlock-test-lag'), logLevel: logLevel.NOTHING }).admin();
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
