/**
 * Every Kafka topic Airlock uses. The local infrastructure creates exactly these (auto topic
 * creation is off), so a topic that is not listed here does not exist.
 */
export const Topics = {
  PolicyEvaluate: 'airlock.policy.evaluate',
  VaultLease: 'airlock.vault.lease',
  ApprovalRequest: 'airlock.approval.request',
  ApprovalDecided: 'airlock.approval.decided',
  ApprovalCancel: 'airlock.approval.cancel',
  ApprovalStatus: 'airlock.approval.status',
  PolicyChanged: 'airlock.policy.changed',
  VaultRotated: 'airlock.vault.rotated',
  Audit: 'airlock.audit',
  AuditDeadLetter: 'airlock.audit.deadletter',
  Healthcheck: 'airlock.healthcheck',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

/** Request topics whose answers travel on a `.reply` topic. */
export const RequestTopics = [
  Topics.PolicyEvaluate,
  Topics.VaultLease,
  Topics.ApprovalRequest,
  Topics.ApprovalStatus,
] as const;
export type RequestTopic = (typeof RequestTopics)[number];

export function replyTopicOf(topic: RequestTopic): `${RequestTopic}.reply` {
  return `${topic}.reply`;
}

/**
 * Who may talk to Kafka: one SASL principal per service, a read-only one for SIEM pipelines, and
 * the scripts' admin (the broker's super user, which needs no ACL). The broker ACLs are generated
 * from the producers and consumers of each catalogue topic (kafka-acls.ts).
 */
export const KafkaPrincipals = [
  'ingress-proxy',
  'policy',
  'approval',
  'recorder',
  'credential-vault',
  'siem',
  'admin',
] as const;
export type KafkaPrincipal = (typeof KafkaPrincipals)[number];
/** The principals that are Airlock services (each signs what it answers, docs/security.md). */
export type ServicePrincipal = Exclude<KafkaPrincipal, 'siem' | 'admin'>;

export interface TopicSpec {
  name: string;
  kind: 'request' | 'reply' | 'event';
  partitions: number;
  /** Log compaction instead of time retention (latest value per key wins). */
  compacted: boolean;
  key: string;
  /** Principals that write the topic: the broker grants them WRITE and nobody else. */
  producers: readonly KafkaPrincipal[];
  /** Principals that read the topic: the broker grants them READ (and their consumer groups). */
  consumers: readonly KafkaPrincipal[];
}

const REQUEST_PARTITIONS = 6;
/** At least as many as client instances that may share a reply topic. */
const REPLY_PARTITIONS = 12;

function requestPair(
  name: RequestTopic,
  key: string,
  producer: ServicePrincipal,
  consumer: ServicePrincipal,
): TopicSpec[] {
  return [
    {
      name,
      kind: 'request',
      partitions: REQUEST_PARTITIONS,
      compacted: false,
      key,
      producers: [producer],
      consumers: [consumer],
    },
    {
      name: replyTopicOf(name),
      kind: 'reply',
      partitions: REPLY_PARTITIONS,
      compacted: false,
      key: 'correlation id',
      // The requester writes too: the probes that prove its reply consumer is positioned
      // (RequestReplyClient). A reply it forged would only reach itself, and replies are signed.
      producers: [consumer, producer],
      consumers: [producer],
    },
  ];
}

export const TOPIC_CATALOGUE: readonly TopicSpec[] = [
  ...requestPair(Topics.PolicyEvaluate, 'session id', 'ingress-proxy', 'policy'),
  ...requestPair(Topics.VaultLease, 'connection', 'ingress-proxy', 'credential-vault'),
  ...requestPair(Topics.ApprovalRequest, 'session id', 'ingress-proxy', 'approval'),
  ...requestPair(Topics.ApprovalStatus, 'approval id', 'ingress-proxy', 'approval'),
  {
    name: Topics.ApprovalDecided,
    kind: 'event',
    partitions: 3,
    compacted: false,
    key: 'approval id',
    producers: ['approval'],
    consumers: ['ingress-proxy', 'recorder'],
  },
  {
    name: Topics.ApprovalCancel,
    kind: 'event',
    partitions: 3,
    compacted: false,
    key: 'approval id',
    producers: ['ingress-proxy'],
    consumers: ['approval'],
  },
  {
    name: Topics.PolicyChanged,
    kind: 'event',
    partitions: 1,
    compacted: true,
    key: 'policy id',
    producers: ['policy'],
    consumers: ['ingress-proxy'],
  },
  {
    name: Topics.VaultRotated,
    kind: 'event',
    partitions: 3,
    compacted: false,
    key: 'connection',
    producers: ['credential-vault'],
    consumers: ['ingress-proxy'],
  },
  {
    name: Topics.Audit,
    kind: 'event',
    partitions: 6,
    compacted: false,
    key: 'session id',
    producers: ['ingress-proxy', 'policy', 'approval', 'credential-vault', 'recorder'],
    consumers: ['recorder', 'siem'],
  },
  {
    name: Topics.AuditDeadLetter,
    kind: 'event',
    partitions: 1,
    compacted: false,
    key: 'partition of airlock.audit',
    producers: ['recorder'],
    consumers: ['admin'],
  },
  {
    name: Topics.Healthcheck,
    kind: 'event',
    partitions: 1,
    compacted: false,
    key: 'probe id',
    // The readiness check of infra/local runs as the admin.
    producers: ['admin'],
    consumers: ['admin'],
  },
];

/** The service that answers a request topic (its consumer in the catalogue): the one whose signature a reply must carry. */
export function answererOf(topic: RequestTopic): ServicePrincipal {
  return serviceOf(TOPIC_CATALOGUE.find((t) => t.name === topic)?.consumers, topic);
}

/** The service that sends requests on a request topic. */
export function requesterOf(topic: RequestTopic): ServicePrincipal {
  return serviceOf(TOPIC_CATALOGUE.find((t) => t.name === topic)?.producers, topic);
}

/** The services that write an event topic. */
export function producersOf(topic: TopicName): readonly KafkaPrincipal[] {
  return TOPIC_CATALOGUE.find((t) => t.name === topic)?.producers ?? [];
}

function serviceOf(principals: readonly KafkaPrincipal[] | undefined, topic: string): ServicePrincipal {
  const [only, ...rest] = principals ?? [];
  if (!only || rest.length > 0 || only === 'siem' || only === 'admin') {
    throw new Error(`the catalogue names no single service on ${topic}`);
  }
  return only;
}
