import { once } from 'node:events';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import type { Logger } from '@nestjs/common';
import type {
  ApprovalCancel,
  ApprovalDecided,
  ApprovalReply,
  ApprovalRequest,
  AuditEventDraft,
  PolicyDecision,
  PolicyEvaluateRequest,
  PostgresOperation,
} from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import {
  BackendType,
  MessageReader,
  decodeErrorFields,
  decodeFrontend,
  encodeBind,
  encodeCommandComplete,
  encodeErrorResponse,
  encodeExecute,
  encodeMessage,
  encodeParse,
  encodeQuery,
  encodeReadyForQuery,
  type Frame,
} from '@airlock/pg-wire';
import type { Classification } from '@airlock/sql';
import { ApprovalWaiters } from '../approval-client/approval-waiters';
import type { ApprovalClient } from '../approval-client/approval.client';
import { holdForApproval, type HoldOptions } from '../approval-client/hold';
import type { AuditService } from '../audit/audit.service';
import { ResponseMasking } from '../masking/response-masking';
import { OperationPipeline } from '../operation/pipeline';
import type { PolicyClient } from '../policy-client/policy-client.service';
import { sqlOperationFingerprint } from '../approval-client/operation-fingerprint';
import type { ActiveLease } from '../credentials/lease.client';
import { PgSession, type PgSessionServices } from './pg-session';

const A = '00000000-0000-7000-8000-00000000000a';
const principal = { issuer: 'https://idp', subject: 'bot', groups: ['agents'] };

async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const near = netConnect((server.address() as AddressInfo).port, '127.0.0.1');
  const [far] = (await accepted) as [Socket];
  await once(near, 'connect');
  server.close();
  return [near, far];
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A PostgreSQL server that answers every statement with success, except the gateway's stand-in
 * text for refusals, which it rejects as a syntax error (as the real server does).
 */
function fakeServer(socket: Socket) {
  const reader = new MessageReader();
  const statements: string[] = [];
  let failed = false;
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(chunk)) {
      const msg = decodeFrontend(frame);
      const out: Buffer[] = [];
      if (msg.type === 'Sync') {
        failed = false;
        out.push(encodeReadyForQuery('I'));
      } else if (failed) {
        continue;
      } else if (msg.type === 'Query' || msg.type === 'Parse') {
        if (msg.sql === 'AIRLOCK REFUSED') {
          out.push(encodeErrorResponse({ severity: 'ERROR', code: '42601', message: 'syntax error' }));
          if (msg.type === 'Query') out.push(encodeReadyForQuery('I'));
          else failed = true;
        } else if (msg.type === 'Query') {
          statements.push(msg.sql);
          out.push(encodeCommandComplete('UPDATE 1'), encodeReadyForQuery('I'));
        } else {
          statements.push(msg.sql);
          out.push(encodeMessage(BackendType.ParseComplete, Buffer.alloc(0)));
        }
      } else if (msg.type === 'Bind') {
        out.push(encodeMessage(BackendType.BindComplete, Buffer.alloc(0)));
      } else if (msg.type === 'Describe') {
        out.push(encodeMessage(BackendType.NoData, Buffer.alloc(0)));
      } else if (msg.type === 'Execute') {
        out.push(encodeCommandComplete('UPDATE 1'));
      }
      if (out.length > 0) socket.write(Buffer.concat(out));
    }
  });
  return { statements };
}

interface Received {
  type: string;
  fields?: Record<string, string>;
}

function agent(socket: Socket) {
  const reader = new MessageReader();
  const received: Received[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk) as Frame[]) {
      const type = String.fromCharCode(f.type);
      received.push(type === 'E' || type === 'N' ? { type, fields: decodeErrorFields(f.body) } : { type });
    }
  });
  return { received, send: (...m: Buffer[]) => socket.write(Buffer.concat(m)) };
}

const reviewRules = { approverGroups: ['approvers'], required: 1, expiresInSeconds: 600 };

function decisionFor(sql: string): PolicyDecision {
  const base = { requestId: 'x', reason: 'a person decides', policyVersion: 'v1', masking: [] };
  return sql.startsWith('SELECT')
    ? { ...base, decision: 'allow' }
    : { ...base, decision: 'review', ruleId: 'writes', approval: reviewRules };
}

function reply(state: ApprovalReply['state'], expiresInMs = 600_000): ApprovalReply {
  return {
    requestId: 'x',
    approvalId: A,
    state,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    url: `https://approvals.example/approvals/${A}`,
  };
}

async function setup(opts: { answers?: Array<ApprovalReply | Error> } = {}) {
  const [agentSide, clientSide] = await socketPair();
  const [upstreamSide, serverSide] = await socketPair();
  const server = fakeServer(serverSide);
  const events: AuditEventDraft[] = [];
  const asked: ApprovalRequest[] = [];
  const cancels: ApprovalCancel[] = [];
  const waiters = new ApprovalWaiters();
  const answers = opts.answers ?? [reply('pending'), reply('approved')];
  const policy = {
    cached: () => undefined,
    evaluate: async (req: PolicyEvaluateRequest) => ({
      decision: decisionFor((req.operation as PostgresOperation).sql),
      cached: false,
    }),
  };
  const audit = {
    healthy: true,
    emit: async (...d: AuditEventDraft[]) => void events.push(...d),
    emitAfter: (...d: AuditEventDraft[]) => void events.push(...d),
  };
  const approvals = {
    hold: (request: ApprovalRequest, o: HoldOptions) =>
      holdForApproval(
        {
          request: async (r) => {
            asked.push(r);
            const a = answers[Math.min(asked.length - 1, answers.length - 1)];
            if (a instanceof Error) throw a;
            return { ...a, requestId: r.requestId };
          },
          waitFor: (id, ms, signal, skip) => waiters.wait(id, ms, signal, skip),
          now: Date.now,
        },
        request,
        o,
      ),
    cancel: async (c: ApprovalCancel) => void cancels.push(c),
  };
  const pipeline = new OperationPipeline(
    policy as unknown as PolicyClient,
    audit as unknown as AuditService,
    new ResponseMasking(),
    approvals as unknown as ApprovalClient,
  );
  const services: PgSessionServices = {
    logger: { warn: jest.fn(), error: jest.fn(), log: jest.fn() } as unknown as Logger,
    classify: (sql): Classification => ({
      parsed: true,
      normalized: sql,
      fingerprint: 'fp',
      statements: [
        sql.startsWith('SELECT')
          ? { command: 'SELECT', class: 'read', tables: [], functions: [], risks: [] }
          : { command: 'UPDATE', class: 'write', tables: ['t'], functions: [], risks: [] },
      ],
    }),
    pipeline,
    resolveColumns: async () => new Map(),
    cachedColumns: () => new Map(),
    relations: () => ({
      cached: () => null,
      load: () => Promise.resolve({ relation: () => undefined }),
      generation: () => 0,
      forget: () => undefined,
    }),
    onClose: () => undefined,
    maxStatementBytes: 1024 * 1024,
  };
  const lease = {
    leaseId: '00000000-0000-7000-8000-000000000003',
    connection: 'db',
    upstream: new URL('postgres://127.0.0.1/db'),
    agentCredentialHeaders: [],
    secretVersion: 1,
    expiresAt: Date.now() + 60_000,
    secret: { kind: 'postgres-password', username: 'owner', password: 'not-for-agents' },
  } as ActiveLease;
  const session = new PgSession(
    clientSide,
    new MessageReader(),
    {
      socket: upstreamSide,
      reader: new MessageReader(),
      pending: [],
      parameters: [],
      backendKey: { processId: 1, secretKey: Buffer.alloc(4) },
      tls: false,
    },
    principal,
    'db',
    lease,
    services,
    { processId: 2, secretKey: Buffer.alloc(4) },
    ['public'],
  );
  session.start([]);
  const client = agent(agentSide);
  const decide = (state: ApprovalDecided['state']) =>
    waiters.decided({ approvalId: A, state, decidedBy: [], decidedAt: new Date().toISOString() });
  const notice = () =>
    until('the notice', () => client.received.find((m) => m.type === 'N' && /held for approval/.test(m.fields!.M)));
  const cleanup = () => {
    session.close('client');
    for (const s of [agentSide, clientSide, upstreamSide, serverSide]) s.destroy();
  };
  return { session, client, server, events, asked, cancels, decide, notice, agentSide, cleanup };
}

const types = (events: AuditEventDraft[]) => events.map((e) => e.type);

describe('PgSession holds a statement policy sent for review', () => {
  let t: Awaited<ReturnType<typeof setup>> | undefined;
  afterEach(() => {
    t?.cleanup();
    t = undefined;
  });

  it('tells the client at once, and runs the statement once approved', async () => {
    t = await setup();
    t.client.send(encodeQuery('UPDATE t SET a = 1 WHERE id = 7'));
    const notice = await t.notice();
    expect(notice.fields).toMatchObject({
      S: 'NOTICE',
      C: '01000',
      M: `statement held for approval ${A}: https://approvals.example/approvals/${A}`,
    });
    expect(notice.fields!.D).toMatch(/expires at/);
    expect(t.server.statements).toEqual([]);
    expect(t.asked[0]).toMatchObject({
      protocol: 'postgres',
      principal,
      connection: 'db',
      ruleId: 'writes',
      rules: reviewRules,
      detail: 'UPDATE t SET a = 1 WHERE id = 7',
      fingerprint: sqlOperationFingerprint('UPDATE t SET a = 1 WHERE id = 7'),
    });
    expect(t.asked[0].operation).not.toHaveProperty('params');

    const heldMs = 40;
    await new Promise((r) => setTimeout(r, heldMs));
    t.decide('approved');
    await until('the statement to complete', () => t!.client.received.some((m) => m.type === 'C'));
    await until('ReadyForQuery', () => t!.client.received.at(-1)?.type === 'Z');
    expect(t.server.statements).toEqual(['UPDATE t SET a = 1 WHERE id = 7']);
    expect(t.asked).toHaveLength(2);
    expect(types(t.events)).toEqual([
      'operation.intercepted',
      'operation.decided',
      'operation.held',
      'statement.completed',
    ]);
    // The wait for the approver is the gateway's time, not the server's.
    const completed = t.events.at(-1) as AuditEventDraft<'statement.completed'>;
    expect(completed.data.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(completed.data.durationMs - completed.data.upstreamMs!).toBeGreaterThanOrEqual(heldMs - 1);
    expect(completed.data.upstreamMs!).toBeLessThan(completed.data.durationMs - heldMs + 1);
  });

  it('answers a denied statement with 42501 and keeps the session usable', async () => {
    t = await setup();
    t.client.send(encodeQuery('DELETE FROM t'));
    await t.notice();
    t.decide('denied');
    const error = await until('the error', () => t!.client.received.find((m) => m.type === 'E'));
    expect(error.fields).toMatchObject({ C: '42501', M: `refused: approval ${A} was denied` });
    expect(t.events.find((e) => e.type === 'operation.denied')).toMatchObject({
      data: { approvalId: A, approvalState: 'denied', ruleId: 'writes' },
    });
    expect(t.server.statements).toEqual([]);
    t.client.send(encodeQuery('SELECT 1'));
    await until('the next statement', () => t!.server.statements.includes('SELECT 1'));
    await until('its answer', () => t!.client.received.filter((m) => m.type === 'Z').length === 2);
  });

  it('cancels the wait and the approval on a CancelRequest, answering 57014', async () => {
    t = await setup();
    t.client.send(encodeQuery('DELETE FROM t'));
    await t.notice();
    expect(t.session.cancelHeld()).toBe(true);
    const error = await until('the error', () => t!.client.received.find((m) => m.type === 'E'));
    expect(error.fields).toMatchObject({ C: '57014', M: 'canceling statement due to user request' });
    expect(t.cancels).toEqual([
      {
        approvalId: A,
        requestId: t.asked[0].requestId,
        sessionId: t.session.id,
        principal,
        reason: 'cancelled by the client',
      },
    ]);
    expect(t.session.cancelHeld()).toBe(false);
    expect(t.events.at(-1)).toMatchObject({ type: 'statement.failed', data: { stage: 'approval', sqlstate: '57014' } });
    expect(t.server.statements).toEqual([]);
  });

  it('reads the client while held: its hanging up cancels the approval', async () => {
    t = await setup();
    t.client.send(encodeQuery('DELETE FROM t'));
    await t.notice();
    t.agentSide.destroy();
    await until('the cancel', () => t!.cancels.length > 0);
    expect(t.cancels[0]).toMatchObject({ approvalId: A, reason: 'the client closed the session' });
    expect(types(t.events)).toContain('session.ended');
    expect(t.events.filter((e) => e.type === 'statement.failed')).toHaveLength(1);
  });

  it('refuses with 57P03 when the approval service does not answer', async () => {
    t = await setup({ answers: [new MessagingError('timeout', 'no answer')] });
    t.client.send(encodeQuery('DELETE FROM t'));
    const error = await until('the error', () => t!.client.received.find((m) => m.type === 'E'));
    expect(error.fields).toMatchObject({
      C: '57P03',
      M: 'the approval service did not answer; statement refused',
    });
    expect(t.cancels).toEqual([]);
  });

  it('refuses with 42501 once the approval expires with nobody deciding', async () => {
    t = await setup({ answers: [reply('pending', -990)] });
    t.client.send(encodeQuery('DELETE FROM t'));
    const error = await until('the error', () => t!.client.received.find((m) => m.type === 'E'));
    expect(error.fields!.C).toBe('42501');
    expect(error.fields!.M).toContain('expired');
    expect(t.asked).toHaveLength(1);
  });

  it('holds an Execute of the extended protocol, bound to its parameter values', async () => {
    t = await setup();
    const sql = 'UPDATE t SET a = $1 WHERE id = $2';
    t.client.send(
      encodeParse('', sql),
      encodeBind('', '', [Buffer.from("it's"), null]),
      encodeExecute(''),
      encodeMessage(0x53, Buffer.alloc(0)),
    );
    await t.notice();
    expect(t.asked[0].detail).toBe(`${sql}\n\n$1 = 'it''s'\n$2 = NULL`);
    expect(t.asked[0].fingerprint).toBe(sqlOperationFingerprint(sql, ["it's", null]));
    expect(t.asked[0].operation).toMatchObject({ via: 'extended', paramCount: 2 });
    expect(t.asked[0].operation).not.toHaveProperty('params');
    t.decide('approved');
    await until('the statement to complete', () => t!.client.received.some((m) => m.type === 'C'));
    await until('ReadyForQuery', () => t!.client.received.at(-1)?.type === 'Z');
  });
});
