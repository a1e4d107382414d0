import {
  AuditEventSchema,
  ContractViolation,
  OperationSchema,
  PolicyEvaluateRequestSchema,
  TOPIC_CATALOGUE,
  TopicSchemas,
  decodeContract,
  uuidv7,
  uuidv7Time,
} from './index';

const principal = { issuer: 'https://idp.example', subject: 'agent-1', groups: ['agents'] };

describe('topic catalogue', () => {
  it('gives every request topic a reply topic with more partitions, and every topic a schema', () => {
    const names = TOPIC_CATALOGUE.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const t of TOPIC_CATALOGUE.filter((x) => x.kind === 'request')) {
      const reply = TOPIC_CATALOGUE.find((x) => x.name === `${t.name}.reply`);
      expect(reply?.kind).toBe('reply');
      expect(reply!.partitions).toBeGreaterThanOrEqual(t.partitions);
    }
    for (const n of names) expect(TopicSchemas[n]).toBeDefined();
  });
});

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID carrying the time, and sorts in creation order', () => {
    const now = Date.UTC(2026, 10, 25, 8, 0, 0);
    const ids = Array.from({ length: 5000 }, () => uuidv7(now));
    for (const id of ids.slice(0, 10)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(uuidv7Time(ids[0])).toBe(now);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('contracts', () => {
  it('accepts a valid policy request and rejects one with a bad field, naming the field', () => {
    const ok = {
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal,
      connection: 'demo',
      protocol: 'http',
      operation: { kind: 'http', method: 'GET', path: '/x' },
    };
    expect(PolicyEvaluateRequestSchema.parse(ok)).toEqual(ok);
    expect(() =>
      decodeContract('policy', PolicyEvaluateRequestSchema, JSON.stringify({ ...ok, connection: 'Bad Name' })),
    ).toThrow(/connection/);
    expect(() => decodeContract('policy', PolicyEvaluateRequestSchema, '{not json')).toThrow(ContractViolation);
    expect(() => decodeContract('policy', PolicyEvaluateRequestSchema, null)).toThrow(/empty/);
  });

  it('asks policy about a session start (connect), which approvals and audited operations never carry', () => {
    const connect = {
      requestId: uuidv7(),
      sessionId: uuidv7(),
      principal,
      connection: 'pgdb',
      protocol: 'postgres',
      operation: { kind: 'connect' },
    };
    expect(PolicyEvaluateRequestSchema.parse(connect)).toEqual(connect);
    expect(OperationSchema.safeParse(connect.operation).success).toBe(false);
    expect(PolicyEvaluateRequestSchema.safeParse({ ...connect, operation: { kind: 'disconnect' } }).success).toBe(
      false,
    );
  });

  it('discriminates audit events by type and rejects unknown types and missing envelope fields', () => {
    const base = {
      id: uuidv7(),
      schemaVersion: 1,
      time: new Date().toISOString(),
      sessionId: uuidv7(),
      requestId: uuidv7(),
      actor: principal,
      connection: 'demo',
      protocol: 'http',
      source: 'ingress-proxy',
    };
    const ev = {
      ...base,
      type: 'operation.completed',
      data: { status: 200, durationMs: 1.5, upstreamMs: 1, bytesOut: 10 },
    };
    expect(AuditEventSchema.parse(ev).type).toBe('operation.completed');
    expect(AuditEventSchema.safeParse({ ...ev, type: 'operation.exploded' }).success).toBe(false);
    expect(AuditEventSchema.safeParse({ ...ev, data: { status: 200 } }).success).toBe(false);
    const { sessionId: _drop, ...noSession } = ev;
    expect(AuditEventSchema.safeParse(noSession).success).toBe(false);
  });
});
