import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type SASLOptions } from 'kafkajs';
import { KafkaPrincipals, TOPIC_CATALOGUE, Topics, type KafkaPrincipal } from '@airlock/contracts';
import { infraEnv, kafkaSasl, waitFor } from '@airlock/testing';

/** The broker of infra/local authenticates every client and authorises every topic from the catalogue's ACLs. */
const brokers = (): string[] => infraEnv().KAFKA_BROKERS.split(',');

function client(sasl: SASLOptions | undefined, clientId = `acl-e2e-${randomUUID().slice(0, 8)}`): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers(),
    sasl,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
  });
}

/** Produces one message as `principal`; resolves with the broker's error, or undefined when it was accepted. */
async function tryWrite(principal: KafkaPrincipal, topic: string): Promise<string | undefined> {
  const producer = client(kafkaSasl(principal)).producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 0 },
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, timeout: 5000, messages: [{ key: 'acl-test', value: '{}' }] });
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    return /not authorized|authorization failed/i.test(message) ? 'TOPIC_AUTHORIZATION_FAILED' : message;
  } finally {
    await producer.disconnect();
  }
}

describe('Kafka: every client authenticates, every topic is authorised', () => {
  it('refuses a client without a credential, and one with a wrong password', async () => {
    const anonymous = client(undefined).admin();
    await expect(anonymous.connect().then(() => anonymous.listTopics())).rejects.toThrow();
    await anonymous.disconnect().catch(() => undefined);

    const wrong = client({ mechanism: 'scram-sha-512', username: 'siem', password: 'not-the-password' }).admin();
    await expect(wrong.connect()).rejects.toThrow(/SASL|authentication/i);
    await wrong.disconnect().catch(() => undefined);

    // The same broker lets a client with a credential in (the refusals above are about the credential).
    const admin = client(kafkaSasl('admin')).admin();
    await admin.connect();
    await expect(admin.listTopics()).resolves.toEqual(expect.arrayContaining([Topics.Audit]));
    await admin.disconnect();
  });

  it('lets the SIEM credential read airlock.audit and nothing else, and write nowhere', async () => {
    // Something to read: an event the admin writes.
    const marker = randomUUID();
    const adminProducer = client(kafkaSasl('admin')).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await adminProducer.connect();
    const [written] = await adminProducer.send({
      topic: Topics.Audit,
      acks: -1,
      messages: [{ key: marker, value: JSON.stringify({ marker }) }],
    });
    await adminProducer.disconnect();

    const siem = client(kafkaSasl('siem'));
    const consumer = siem.consumer({
      groupId: `siem-e2e-${randomUUID()}`,
      maxWaitTimeInMs: 100,
      retry: { retries: 0 },
    });
    await consumer.connect();
    let seen = false;
    try {
      await consumer.subscribe({ topics: [Topics.Audit], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => void (message.key?.toString() === marker && (seen = true)),
      });
      // Straight to the marker: the shared topic may hold far more than can be read in the wait.
      consumer.seek({ topic: Topics.Audit, partition: written.partition, offset: written.baseOffset! });
      await waitFor('the SIEM consumer to read the audit event', async () => seen || undefined, { timeoutMs: 30000 });
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toBe(true);

    // Reading any other topic is refused: not even its metadata is visible.
    for (const topic of TOPIC_CATALOGUE.map((t) => t.name).filter((t) => t !== Topics.Audit)) {
      const admin = siem.admin();
      await admin.connect();
      try {
        await expect(admin.fetchTopicMetadata({ topics: [topic] })).rejects.toThrow(/not authorized|authorization/i);
      } finally {
        await admin.disconnect();
      }
    }
    // Nor may it join a consumer group that is not a SIEM group.
    const intruder = siem.consumer({
      groupId: 'airlock-recorder-intruder',
      retry: { retries: 0, restartOnFailure: async () => false },
    });
    const crashed = new Promise<string>((resolve) =>
      intruder.on(intruder.events.CRASH, (e) => {
        const err = e.payload.error as Error & { originalError?: { type?: string } };
        resolve(`${err.message} (${err.originalError?.type ?? 'no cause'})`);
      }),
    );
    await intruder.connect();
    try {
      await intruder.subscribe({ topics: [Topics.Audit] });
      await intruder.run({ eachMessage: async () => undefined });
      // The broker refuses FindCoordinator (GROUP_AUTHORIZATION_FAILED); kafkajs reports that as a
      // coordinator it could not find. The same credential joined its own siem- group above.
      await expect(crashed).resolves.toMatch(/group coordinator|authoriz/i);
    } finally {
      await intruder.disconnect();
    }

    for (const topic of TOPIC_CATALOGUE.map((t) => t.name)) {
      expect([topic, await tryWrite('siem', topic)]).toEqual([topic, 'TOPIC_AUTHORIZATION_FAILED']);
    }
  });

  it.each(KafkaPrincipals.filter((p) => p !== 'admin' && p !== 'siem'))(
    'lets %s write the topics it produces and refuses every other',
    async (principal) => {
      for (const topic of TOPIC_CATALOGUE) {
        const outcome = await tryWrite(principal, topic.name);
        const expected = topic.producers.includes(principal) ? undefined : 'TOPIC_AUTHORIZATION_FAILED';
        expect([topic.name, outcome]).toEqual([topic.name, expected]);
      }
    },
  );
});
