import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { AUDIT_SCHEMA_VERSION, Topics, uuidv7, type AuditEvent } from '@airlock/contracts';
import { infraEnv, kafkaSasl } from './infra';

/** A UUIDv7 of the given instant, past or future (the contracts' generator only moves forward). */
export function uuidv7At(ms: number): string {
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A valid `operation.completed` event of `sessionId`, as the ingress emits it. `at` sets the
 * time its UUIDv7 id and `time` carry (the store's partition), so a test can make old events.
 */
export function syntheticAuditEvent(sessionId: string, opts: { at?: number; subject?: string } = {}): AuditEvent {
  const at = opts.at;
  return {
    id: at === undefined ? uuidv7() : uuidv7At(at),
    schemaVersion: AUDIT_SCHEMA_VERSION,
    time: new Date(at ?? Date.now()).toISOString(),
    type: 'operation.completed',
    sessionId,
    requestId: uuidv7(),
    actor: { issuer: 'https://idp.test', subject: opts.subject ?? 'agent-synthetic', groups: ['agents'] },
    connection: 'demo',
    protocol: 'http',
    source: 'ingress-proxy',
    data: { status: 200, durationMs: 1.5, upstreamMs: 1.1, bytesOut: 512, masked: { 'aws-access-key': 1 } },
  };
}

/**
 * Writes audit events straight to `airlock.audit`, keyed by session like the services do, and
 * remembers every id the broker acknowledged. A send that fails is retried until the broker
 * takes it (so events may reach the topic twice, as with any producer retry).
 */
export class AuditTrafficProducer {
  private readonly producer: Producer;
  readonly acknowledged = new Set<string>();
  sendFailures = 0;

  constructor(clientId = 'airlock-test-audit-traffic') {
    this.producer = new Kafka({
      clientId,
      brokers: infraEnv().KAFKA_BROKERS.split(','),
      sasl: kafkaSasl(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 200 },
    }).producer({ allowAutoTopicCreation: false });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Sends until acknowledged by all in-sync replicas, retrying across broker outages up to `deadlineMs`. */
  async send(events: AuditEvent[], deadlineMs = 120_000): Promise<void> {
    const messages = events.map((e) => ({ key: e.sessionId, value: JSON.stringify(e) }));
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        await this.producer.send({ topic: Topics.Audit, acks: -1, timeout: 10_000, messages });
        for (const e of events) this.acknowledged.add(e.id);
        return;
      } catch (err) {
        this.sendFailures++;
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
