import { Kafka, logLevel } from 'kafkajs';
import { TOPIC_CATALOGUE } from '@airlock/contracts';
import { infraEnv, kafkaSasl } from '@airlock/testing';

/** Where a needle was found, for a readable failure. */
export interface Finding {
  where: string;
  excerpt: string;
}

/** Finds every occurrence of any needle in a haystack, as text and as base64/hex of the needle. */
export function findIn(where: string, haystack: string | Buffer, needles: string[]): Finding[] {
  const text = Buffer.isBuffer(haystack) ? haystack.toString('latin1') : haystack;
  const out: Finding[] = [];
  for (const n of needles) {
    for (const form of [n, Buffer.from(n).toString('base64'), Buffer.from(n).toString('hex')]) {
      const i = text.indexOf(form);
      if (i >= 0) out.push({ where, excerpt: text.slice(Math.max(0, i - 40), i + form.length + 40) });
    }
  }
  return out;
}

/**
 * Every byte of every message (key, value, headers) on every catalogue topic, from the beginning
 * or from the messages written since `since` (ms): what a test planted cannot be older than the
 * test, and a broker that has served many runs would otherwise take minutes to read.
 */
export async function scanKafka(needles: string[], since?: number): Promise<{ findings: Finding[]; messages: number }> {
  const kafka = new Kafka({
    clientId: 'e2e-scanner',
    brokers: infraEnv().KAFKA_BROKERS.split(','),
    sasl: kafkaSasl(),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `e2e-scanner-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const ends = new Map<string, Map<number, bigint>>();
  for (const t of TOPIC_CATALOGUE) {
    const offsets = await admin.fetchTopicOffsets(t.name);
    const starts = new Map(offsets.map((o) => [o.partition, BigInt(o.low)]));
    if (since !== undefined) {
      const from = await admin.fetchTopicOffsetsByTimestamp(t.name, since);
      const highs = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
      // No message since then: nothing to read on that partition (start at its end).
      for (const o of from)
        starts.set(o.partition, BigInt(o.offset) >= 0n ? BigInt(o.offset) : (highs.get(o.partition) ?? 0n));
      await admin.setOffsets({
        groupId,
        topic: t.name,
        partitions: [...starts].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
      });
    }
    ends.set(
      t.name,
      new Map(
        offsets
          .filter((o) => BigInt(o.high) > (starts.get(o.partition) ?? BigInt(o.low)))
          .map((o) => [o.partition, BigInt(o.high)]),
      ),
    );
  }
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: TOPIC_CATALOGUE.map((t) => t.name), fromBeginning: true });
  const findings: Finding[] = [];
  let messages = 0;
  const remaining = new Map<string, bigint>(
    [...ends].flatMap(([topic, parts]) => [...parts].map(([p, end]) => [`${topic}/${p}`, end] as const)),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Kafka scan incomplete: ${[...remaining.keys()].join(', ')}`)),
      120000,
    );
    if (remaining.size === 0) {
      clearTimeout(timer);
      resolve();
      return;
    }
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        messages++;
        const where = `kafka ${topic}/${partition}@${message.offset}`;
        if (message.key) findings.push(...findIn(where, message.key, needles));
        if (message.value) findings.push(...findIn(where, message.value, needles));
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          findings.push(...findIn(`${where} header ${k}`, `${k}:${String(v)}`, needles));
        }
        const key = `${topic}/${partition}`;
        const end = remaining.get(key);
        if (end !== undefined && BigInt(message.offset) + 1n >= end) {
          remaining.delete(key);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        }
      },
    });
  });
  await consumer.disconnect();
  return { findings, messages };
}

/**
 * Everything a test system wrote where a leak would last: every Kafka topic since `since`, the
 * logs of every service, and every table of the services' database (the audit store among them).
 */
export async function scanSystem(
  sys: {
    db: { query<R extends object>(sql: string): Promise<R[]> };
    ingress: { name: string; logs: string };
    policy: { name: string; logs: string };
    recorder: { name: string; logs: string };
    vault: { name: string; logs: string };
    approval: { name: string; logs: string };
  },
  needles: string[],
  since: number,
): Promise<{ findings: Finding[]; kafkaMessages: number }> {
  const kafka = await scanKafka(needles, since);
  const logs = [sys.ingress, sys.policy, sys.recorder, sys.vault, sys.approval].flatMap((s) =>
    findIn(`${s.name} log`, s.logs, needles),
  );
  const rows = await sys.db.query<{ row: string }>(
    `SELECT t.table_name || ': ' || string_agg(x.row, ' ') AS row
       FROM information_schema.tables t,
            LATERAL (SELECT query_to_xml(format('SELECT * FROM %I', t.table_name), true, false, '')::text AS row) x
      WHERE t.table_schema = 'public' GROUP BY t.table_name`,
  );
  const store = rows.flatMap((r) => findIn('database', r.row, needles));
  return { findings: [...kafka.findings, ...logs, ...store], kafkaMessages: kafka.messages };
}
