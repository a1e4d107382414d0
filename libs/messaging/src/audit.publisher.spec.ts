import type { Producer, ProducerRecord } from 'kafkajs';
import type { AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher } from './audit.publisher';

/** Records produce requests; a unit test needs no broker to count them. */
function recordingProducer(): { producer: Producer; sends: ProducerRecord[] } {
  const sends: ProducerRecord[] = [];
  const producer = { send: async (r: ProducerRecord) => void sends.push(r) } as unknown as Producer;
  return { producer, sends };
}

const draft = (n: number): AuditEventDraft => ({
  type: 'session.ended',
  sessionId: '0192f0c0-0000-7000-8000-000000000001',
  requestId: '0192f0c0-0000-7000-8000-000000000002',
  actor: null,
  connection: 'db',
  protocol: 'postgres',
  source: 'test',
  data: { reason: 'client', durationMs: n, statements: n, denied: 0 },
});

describe('AuditPublisher', () => {
  it('sends urgent events at once, one produce request per turn', async () => {
    const { producer, sends } = recordingProducer();
    const p = new AuditPublisher(producer, { timeoutMs: 1000, lingerMs: 50 });
    await Promise.all([p.emit(draft(1)), p.emit(draft(2))]);
    expect(sends).toHaveLength(1);
    expect(sends[0].messages).toHaveLength(2);
  });

  it('lets lingering events wait to share one request', async () => {
    const { producer, sends } = recordingProducer();
    const p = new AuditPublisher(producer, { timeoutMs: 1000, lingerMs: 30 });
    const first = p.emitLingering(draft(1));
    await new Promise((r) => setTimeout(r, 10));
    const second = p.emitLingering(draft(2));
    await new Promise((r) => setImmediate(r));
    expect(sends).toHaveLength(0);
    await Promise.all([first, second]);
    expect(sends).toHaveLength(1);
    expect(sends[0].messages.map((m) => JSON.parse(String(m.value)).data.statements)).toEqual([1, 2]);
  });

  it('takes waiting events along with an urgent one, in order', async () => {
    const { producer, sends } = recordingProducer();
    const p = new AuditPublisher(producer, { timeoutMs: 1000, lingerMs: 10_000 });
    const waiting = p.emitLingering(draft(1));
    await p.emit(draft(2));
    await waiting;
    expect(sends).toHaveLength(1);
    expect(sends[0].messages.map((m) => JSON.parse(String(m.value)).data.statements)).toEqual([1, 2]);
  });

  it('does not wait once a full batch is queued', async () => {
    const { producer, sends } = recordingProducer();
    const p = new AuditPublisher(producer, { timeoutMs: 1000, lingerMs: 10_000, maxBatch: 3 });
    await Promise.all([1, 2, 3].map((n) => p.emitLingering(draft(n))));
    expect(sends).toHaveLength(1);
    expect(sends[0].messages).toHaveLength(3);
  });
});
