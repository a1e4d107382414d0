/**
 * Kafka readiness probe of the local infrastructure (run by infra/local/check.sh):
 *   1. cluster metadata (describeCluster) answers,
 *   2. the health-check topic exists with a leader on every partition (created if missing),
 *   3. a message produced with acks=all is consumed back by a fresh consumer group.
 * Retries until AIRLOCK_KAFKA_READY_TIMEOUT_MS (default 60 000) has passed; exit code 0 = ready.
 *
 *   npx tsx infra/local/kafka-ready.ts        (broker from KAFKA_BROKERS, default 127.0.0.1:19092)
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Topics } from '../../libs/contracts/src/topics';
import { adminSasl, brokers } from './kafka-client';

const timeoutMs = Number(process.env.AIRLOCK_KAFKA_READY_TIMEOUT_MS ?? 60_000);
const topic = Topics.Healthcheck;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface ProbeResult {
  brokerCount: number;
  controllerId: number | null;
  roundTripMs: number;
}

async function probe(attemptTimeoutMs: number): Promise<ProbeResult> {
  const kafka = new Kafka({
    clientId: 'airlock-infra-ready',
    brokers,
    sasl: adminSasl(),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  const probeId = randomUUID();
  const groupId = `airlock-infra-ready-${probeId}`;
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 1_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000, restartOnFailure: async () => false },
  });

  try {
    await admin.connect();
    const cluster = await admin.describeCluster();

    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: -1 }],
        waitForLeaders: true,
        timeout: 10_000,
      });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = metadata.topics[0]?.partitions ?? [];
    if (partitions.length === 0 || partitions.some((p) => p.leader < 0)) {
      throw new Error(`topic ${topic} has no leader on every partition yet`);
    }

    const started = Date.now();
    await producer.connect();
    const [record] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: probeId, value: probeId }],
    });
    if (!record || record.baseOffset === undefined) {
      throw new Error('produce returned no offset');
    }

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
      void consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === probeId) resolve();
          },
        })
        .then(() => consumer.seek({ topic, partition: record.partition, offset: record.baseOffset! }))
        .catch(reject);
    });
    await withTimeout(received, attemptTimeoutMs, 'consuming the probe message');
    const roundTripMs = Date.now() - started;

    return { brokerCount: cluster.brokers.length, controllerId: cluster.controller, roundTripMs };
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    // The group committed nothing; delete it so probes leave no trace (best effort).
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let attempt = 0;
  let lastMessage = '';
  for (;;) {
    attempt += 1;
    const remaining = deadline - Date.now();
    try {
      // Bound each attempt by the overall deadline (a silent peer could otherwise hold it).
      const attemptMs = Math.max(2_000, remaining);
      const result = await withTimeout(probe(Math.min(20_000, attemptMs)), attemptMs, 'readiness attempt');
      console.log(
        `[kafka-ready] Kafka ready at ${brokers.join(',')}: ${result.brokerCount} broker(s), ` +
          `controller ${result.controllerId ?? 'unknown'}, produce->consume round trip on ${topic} ` +
          `in ${result.roundTripMs} ms (attempt ${attempt}, ${Date.now() - started} ms in total)`,
      );
      return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastMessage) {
        console.log(`[kafka-ready] not ready yet (attempt ${attempt}): ${message}`);
        lastMessage = message;
      }
      if (Date.now() + 500 >= deadline) {
        throw new Error(`Kafka at ${brokers.join(',')} not ready after ${timeoutMs} ms: ${message}`);
      }
      await sleep(500);
    }
  }
}

main().catch((error: unknown) => {
  console.error(`[kafka-ready] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
