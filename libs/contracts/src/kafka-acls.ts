import { TOPIC_CATALOGUE, type KafkaPrincipal, type TopicSpec } from './topics';

/**
 * The broker ACLs, generated from the topic catalogue: a producer of a topic may WRITE it, a
 * consumer may READ it, both may DESCRIBE it, and each principal may use the consumer groups
 * that start with its own name. Nothing else is allowed (the broker runs with
 * `allow.everyone.if.no.acl.found=false`); the admin is a super user and gets no ACL.
 * Plain data, so the infrastructure script, the tests and docs/security.md share one source.
 */
export type AclOperation = 'READ' | 'WRITE' | 'DESCRIBE';

export interface KafkaAcl {
  principal: Exclude<KafkaPrincipal, 'admin'>;
  resourceType: 'TOPIC' | 'GROUP';
  /** LITERAL: exactly this name; PREFIXED: every name starting with it. */
  patternType: 'LITERAL' | 'PREFIXED';
  resourceName: string;
  operation: AclOperation;
}

export interface KafkaAclOptions {
  /** KAFKA_GROUP_PREFIX of the services: their groups are `<prefix>-<service>...`. */
  groupPrefix?: string;
  /** Consumer groups of SIEM pipelines start with this. */
  siemGroupPrefix?: string;
  topics?: readonly TopicSpec[];
}

export const DEFAULT_GROUP_PREFIX = 'airlock';
export const DEFAULT_SIEM_GROUP_PREFIX = 'siem';

/** Every topic ACL of the catalogue plus the group ACLs of every principal that consumes. */
export function kafkaAcls(options: KafkaAclOptions = {}): KafkaAcl[] {
  const topics = options.topics ?? TOPIC_CATALOGUE;
  const acls: KafkaAcl[] = [];
  const seen = new Set<string>();
  const add = (acl: KafkaAcl): void => {
    const key = aclKey(acl);
    if (seen.has(key)) return;
    seen.add(key);
    acls.push(acl);
  };
  const consumers = new Set<Exclude<KafkaPrincipal, 'admin'>>();
  for (const topic of topics) {
    const grants: [readonly KafkaPrincipal[], AclOperation][] = [
      [topic.producers, 'WRITE'],
      [topic.consumers, 'READ'],
    ];
    for (const [principals, operation] of grants) {
      for (const principal of principals) {
        if (principal === 'admin') continue;
        if (operation === 'READ') consumers.add(principal);
        const resource = {
          principal,
          resourceType: 'TOPIC',
          patternType: 'LITERAL',
          resourceName: topic.name,
        } as const;
        add({ ...resource, operation });
        add({ ...resource, operation: 'DESCRIBE' });
      }
    }
  }
  for (const principal of consumers) add(groupAcl(principal, options));
  return acls;
}

/** The READ right on a principal's consumer groups (under one group prefix). */
export function groupAcl(principal: Exclude<KafkaPrincipal, 'admin'>, options: KafkaAclOptions = {}): KafkaAcl {
  const resourceName =
    principal === 'siem'
      ? (options.siemGroupPrefix ?? DEFAULT_SIEM_GROUP_PREFIX)
      : `${options.groupPrefix ?? DEFAULT_GROUP_PREFIX}-${principal}`;
  return { principal, resourceType: 'GROUP', patternType: 'PREFIXED', resourceName, operation: 'READ' };
}

export function aclKey(acl: KafkaAcl): string {
  return [acl.principal, acl.resourceType, acl.patternType, acl.resourceName, acl.operation].join(' ');
}

/** The principals that take part in a topic at all. */
export function principalsOf(topic: TopicSpec): KafkaPrincipal[] {
  return [...new Set([...topic.producers, ...topic.consumers])];
}

/**
 * The ACLs as a Markdown table, one row per principal and resource: what docs/security.md shows
 * (a unit test keeps the document equal to this).
 */
export function aclTableMarkdown(options: KafkaAclOptions = {}): string {
  const rows = new Map<string, { principal: string; resource: string; operations: string[] }>();
  for (const acl of kafkaAcls(options)) {
    const resource = acl.resourceType === 'TOPIC' ? `topic \`${acl.resourceName}\`` : `groups \`${acl.resourceName}*\``;
    const key = `${acl.principal} ${resource}`;
    const row = rows.get(key) ?? { principal: acl.principal, resource, operations: [] };
    row.operations.push(acl.operation);
    rows.set(key, row);
  }
  const lines = [...rows.values()]
    .sort((a, b) => a.principal.localeCompare(b.principal) || a.resource.localeCompare(b.resource))
    .map((r) => `| ${r.principal} | ${r.resource} | ${r.operations.sort().join(', ')} |`);
  return ['| principal | resource | allowed |', '| --- | --- | --- |', ...lines].join('\n');
}
