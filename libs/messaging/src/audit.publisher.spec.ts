import type { Producer, ProducerRecord } from 'kafkajs';
import type { AuditEventDraft } from '@airlock/contracts';
import { AuditPublisher } from './audit.publisher';

/** Records produce requests; a unit test needs no broker to count them. */
function recordingProducer(): { producer: Producer; sends: ProducerRecord[] } {
  const sends: ProducerRecord[] = [];
  const producer = { send: async (r: ProducerRecord) => void sends.push(r) } as unknown as Producer;
  return { producer, sends };
}

/** A producer whose sends stay in flight until the test acknowledges (or fails) them. */
function heldProducer(): {
  producer: Producer;
  sends: ProducerRecord[];
  ack(i: number): void;
  fail(i: number): void;
} {
  const sends: ProducerRecord[] = [];
  const pending: { resolve(): void; reject(e: Error): void }[] = [];
  const producer = {
    send: (r: ProducerRecord) =>
      new Promise<void>((resolve, reject) => {
        sends.push(r);
        pending.push({ resolve, reject });
      }),
  } as unknown as Producer;
  return {
    producer,
    sends,
    ack: (i) => pending[i].resolve(),
    fail: (i) => pending[i].reject(new Error('broker unavailable')),
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const statements = (r: ProducerRecord): number[] =>
  r.messages.map((m) => (JSON.parse(String(m.value)) as { data: { statements: number } }).data.statements);

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
  it('carries the trace an event names in its traceparent header, and none for an event without one', async () => {
    const { producer, sends } = recordingProducer();
    const p = new AuditPublisher(producer, { timeoutMs: 1000 });
    const traced = { ...draft(1), traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    await p.emit(traced, draft(2));
    const [withTrace, without] = sends[0].messages;
    expect(withTrace.headers).toEqual({
      'airlock-event-type': 'session.ended',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(JSON.parse(String(withTrace.value))).toMatchObject({ traceId: traced.traceId, spanId: traced.spanId });
    expect(without.headers).toEqual({ 'airlock-event-type': 'session.ended' });
    expect(JSON.parse(String(without.value))).not.toHaveProperty('traceId');
  });

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

  it('gathers what arrives while a request is in flight into the next one, each caller answered by its own', async () => {
    const h = heldProducer();
    const p = new AuditPublisher(h.producer, { timeoutMs: 10_000 });
    const outcome = (promise: Promise<unknown>): { settled: string } => {
      const o = { settled: 'no' };
      promise.then(
        () => (o.settled = 'resolved'),
        () => (o.settled = 'rejected'),
      );
      return o;
    };
    const first = outcome(p.emit(draft(1)));
    await turn();
    const later = [2, 3, 4].map((n) => outcome(p.emit(draft(n))));
    await turn();
    await turn();
    // One request in flight: the three later events wait for it.
    expect(h.sends.map(statements)).toEqual([[1]]);
    h.ack(0);
    await turn();
    await turn();
    expect(first.settled).toBe('resolved');
    expect(later.map((o) => o.settled)).toEqual(['no', 'no', 'no']);
    expect(h.sends.map(statements)).toEqual([[1], [2, 3, 4]]);
    h.fail(1);
    await turn();
    expect(later.map((o) => o.settled)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('lets as many requests fly as maxInFlight allows', async () => {
    const h = heldProducer();
    const p = new AuditPublisher(h.producer, { timeoutMs: 10_000, maxInFlight: 2 });
    p.emit(draft(1)).catch(() => undefined);
    await turn();
    p.emit(draft(2)).catch(() => undefined);
    await turn();
    // Never acknowledged: it fails when its deadline passes, after this test.
    p.emit(draft(3)).catch(() => undefined);
    await turn();
    expect(h.sends.map(statements)).toEqual([[1], [2]]);
    h.ack(0);
    h.ack(1);
    await turn();
    await turn();
    expect(h.sends.map(statements)).toEqual([[1], [2], [3]]);
  });

  it('answers a caller queued behind a request the broker never acknowledges, within its own deadline', async () => {
    const h = heldProducer();
    const p = new AuditPublisher(h.producer, { timeoutMs: 30 });
    const first = p.emit(draft(1));
    await turn();
    const waiting = p.emit(draft(2));
    await expect(first).rejects.toThrow('audit events could not be published');
    await expect(waiting).rejects.toThrow('audit events could not be published');
    expect(h.sends[0].messages).toHaveLength(1);
  });

  it('keeps at least minIntervalMs between requests under load, and sends at once after a quiet spell', async () => {
    jest.useFakeTimers();
    try {
      const { producer, sends } = recordingProducer();
      const p = new AuditPublisher(producer, { timeoutMs: 1000, minIntervalMs: 5 });
      const settle = async (): Promise<void> => {
        await jest.advanceTimersByTimeAsync(0);
      };
      void p.emit(draft(1));
      await settle();
      expect(sends.map(statements)).toEqual([[1]]);
      // Within the interval: these wait for it, and share one request.
      await jest.advanceTimersByTimeAsync(1);
      void p.emit(draft(2));
      void p.emit(draft(3));
      await settle();
      expect(sends.map(statements)).toEqual([[1]]);
      await jest.advanceTimersByTimeAsync(3);
      expect(sends.map(statements)).toEqual([[1]]);
      await jest.advanceTimersByTimeAsync(2);
      expect(sends.map(statements)).toEqual([[1], [2, 3]]);
      // Longer than the interval since the last request: no wait.
      await jest.advanceTimersByTimeAsync(50);
      void p.emit(draft(4));
      await settle();
      expect(sends.map(statements)).toEqual([[1], [2, 3], [4]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not send lingering events when a request is acknowledged, only once they are due', async () => {
    jest.useFakeTimers();
    try {
      const h = heldProducer();
      const p = new AuditPublisher(h.producer, { timeoutMs: 10_000, lingerMs: 50 });
      const first = p.emit(draft(1));
      await jest.advanceTimersByTimeAsync(0);
      const lingering = p.emitLingering(draft(2));
      await jest.advanceTimersByTimeAsync(10);
      h.ack(0);
      await first;
      await jest.advanceTimersByTimeAsync(10);
      expect(h.sends.map(statements)).toEqual([[1]]);
      await jest.advanceTimersByTimeAsync(31);
      expect(h.sends.map(statements)).toEqual([[1], [2]]);
      h.ack(1);
      await lingering;
    } finally {
      jest.useRealTimers();
    }
  });
});
