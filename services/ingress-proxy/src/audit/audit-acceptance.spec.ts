import fc from 'fast-check';
import type { Producer } from 'kafkajs';
import {
  acceptAuditMessage,
  uuidv7,
  type ApprovalState,
  type AuditEventDraft,
  type PolicyDecision,
  type Principal,
} from '@airlock/contracts';
import { AuditPublisher } from '@airlock/messaging';
import { refusedCallEvent } from '@airlock/runtime';
import { SqlClassifier, loadSqlParser } from '@airlock/sql';
import type { FailureStage } from '../errors';
import {
  approvalDeniedDraft,
  auditedOperation,
  decidedData,
  deniedDraft,
  heldDraft,
  httpAuthFailedDraft,
  httpCompletedDraft,
  httpFailedDraft,
  httpOperation,
  interceptedDraft,
  pgAuthFailedDraft,
  sessionEndedDraft,
  sessionStartedDraft,
  statementFailedDraft,
  type Envelope,
} from '../operation/operation-audit';
import { StatementContext, splitCommandTag, statementOperation } from '../postgres/statement-context';

/**
 * Every audit-event builder of the ingress, fed arbitrary text where a client, a token or a
 * policy could put it, makes an event the publisher accepts and the recorder then stores: the
 * exact check the recorder applies (acceptAuditMessage: JSON, no U+0000, the contract, the
 * canonical form its chain hashes) on the exact bytes the publisher sends.
 */

// Never used to send: only `build`, the publisher's last step before the bytes go out.
const publisher = new AuditPublisher({} as Producer, { timeoutMs: 1000 });

function published(draft: AuditEventDraft): void {
  const event = publisher.build(draft);
  const bytes = Buffer.from(JSON.stringify(event), 'utf8');
  const accepted = acceptAuditMessage(bytes);
  expect(accepted.event.type).toBe(draft.type);
  // What the store keeps parses back, and holds no character the store refuses.
  expect(JSON.stringify(JSON.parse(accepted.raw))).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
}

/** One UTF-16 unit or code point of trouble: any code point, lone surrogates, NUL, astral characters. */
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant('\0') },
  { weight: 2, arbitrary: fc.constantFrom('\u{1F600}', '\u{10FFFF}', '\u{20000}') },
);
/** The limits of the audit contract, where a cut could split a pair. */
const LIMITS = [63, 64, 256, 500, 2000, 2048, 8192, 16384];
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit, maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...LIMITS),
        fc.integer({ min: -2, max: 1 }),
        fc.string({ unit, minLength: 1, maxLength: 6 }),
      )
      .map(([limit, delta, tail]) => `${'a'.repeat(Math.max(0, limit + delta))}${tail}`),
  },
  { weight: 1, arbitrary: fc.string({ unit, minLength: 16380, maxLength: 16400 }) },
);
const nonEmptyText = text.filter((s) => s.length > 0);

const principal: fc.Arbitrary<Principal> = fc.record({
  issuer: nonEmptyText,
  subject: nonEmptyText,
  groups: fc.array(text, { maxLength: 3 }),
});
const envelope: fc.Arbitrary<Envelope> = fc.record({
  sessionId: fc.constant(uuidv7()),
  requestId: fc.constant(uuidv7()),
  actor: fc.option(principal, { nil: null }),
  connection: fc.constantFrom(null, 'pgdb', 'demo'),
  protocol: fc.constantFrom('postgres' as const, 'http' as const),
  source: fc.constant('ingress-proxy'),
});
const stage = fc.constantFrom<FailureStage>(
  'routing',
  'policy',
  'upstream',
  'masking',
  'audit',
  'approval',
  'internal',
);
const decision: fc.Arbitrary<PolicyDecision> = fc.record({
  decision: fc.constantFrom('allow' as const, 'deny' as const),
  reason: text,
  ruleId: fc.option(text, { nil: undefined }),
  policyVersion: nonEmptyText,
  masking: fc.array(text, { maxLength: 3 }),
}) as fc.Arbitrary<PolicyDecision>;
const maskCounts = fc.dictionary(text, fc.nat(), { maxKeys: 3 });
const RUNS = { numRuns: 100 };

describe('every audit event the ingress builds is one the recorder stores', () => {
  const classifier = new SqlClassifier(0);

  beforeAll(async () => {
    await loadSqlParser();
  });

  it('checks what it claims: a lone surrogate or U+0000 sent as is is refused by the recorder', () => {
    const draft = sessionStartedDraft(
      {
        sessionId: uuidv7(),
        requestId: uuidv7(),
        actor: null,
        connection: 'pgdb',
        protocol: 'postgres',
        source: 'ingress-proxy',
      },
      { client: '127.0.0.1:1', tls: true, applicationName: 'ok', leaseId: uuidv7() },
    );
    const event = publisher.build(draft);
    const split = JSON.stringify({ ...event, data: { ...event.data, applicationName: 'a\ud83d' } });
    expect(() => acceptAuditMessage(Buffer.from(split))).toThrow(/lone surrogate/);
    const nul = JSON.stringify({ ...event, data: { ...event.data, applicationName: 'a\0' } });
    expect(() => acceptAuditMessage(Buffer.from(nul))).toThrow(/U\+0000/);
  });

  it('keeps a cut application_name whole: 63 characters and an emoji become the 63 characters', () => {
    const name = `${'a'.repeat(63)}\u{1F600}`;
    const draft = sessionStartedDraft(
      {
        sessionId: uuidv7(),
        requestId: uuidv7(),
        actor: null,
        connection: 'pgdb',
        protocol: 'postgres',
        source: 'ingress-proxy',
      },
      { client: '127.0.0.1:1', tls: true, applicationName: name, leaseId: uuidv7() },
    );
    expect(draft.data.applicationName).toBe('a'.repeat(63));
    published(draft);
  });

  it('PostgreSQL sessions: session.started, session.ended, auth.failed', () => {
    fc.assert(
      fc.property(envelope, text, text, fc.boolean(), (env, client, applicationName, tls) => {
        published(sessionStartedDraft(env, { client, tls, applicationName, leaseId: uuidv7() }));
        published(sessionEndedDraft(env, uuidv7(), { reason: 'client', durationMs: 1.5, statements: 3, denied: 1 }));
      }),
      RUNS,
    );
    fc.assert(
      fc.property(envelope, text, text, (env, code, reason) => published(pgAuthFailedDraft(env, code, reason))),
      RUNS,
    );
  });

  it('PostgreSQL statements: intercepted (the classified text), decided, denied, failed, completed', () => {
    fc.assert(
      fc.property(
        envelope,
        text,
        fc.constantFrom('simple' as const, 'extended' as const),
        fc.option(fc.array(fc.option(text, { nil: null }), { maxLength: 3 }), { nil: undefined }),
        decision,
        (env, sql, via, params, d) => {
          const operation = statementOperation(classifier.classify(sql), via, params);
          published(interceptedDraft(env, auditedOperation(operation)));
          published({ ...env, type: 'operation.decided', data: decidedData(d, false) });
          published(deniedDraft(env, d.reason, d));
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(envelope, stage, text, (env, s, reason) => {
        published(statementFailedDraft(env, { stage: s, publicMessage: reason, sqlstate: '42501' }));
      }),
      RUNS,
    );
  });

  it('PostgreSQL statement outcomes: command tags, kept statement text, mask counts, folded operation', () => {
    fc.assert(
      fc.property(
        envelope,
        text,
        fc.option(text, { nil: undefined }),
        maskCounts,
        stage,
        text,
        decision,
        (env, tag, literal, counts, s, reason, d) => {
          const ctx = new StatementContext(env, undefined, literal);
          Object.assign(ctx.counts, counts);
          const operation = statementOperation(classifier.classify(literal ?? 'SELECT 1'), 'simple', undefined);
          const { params: _params, ...audited } = operation;
          ctx.foldInto(audited, decidedData(d, true));
          const { command, rows } = splitCommandTag(tag);
          published(ctx.completion(command, rows, '22P02'));
          published(ctx.failure(s, reason, '57014'));
        },
      ),
      RUNS,
    );
  });

  it('HTTP operations: intercepted (method and path), denied, failed, completed, auth.failed', () => {
    fc.assert(
      fc.property(
        envelope,
        fc.constantFrom('GET', 'POST', 'PROPFIND', 'DELETE'),
        text,
        decision,
        stage,
        maskCounts,
        (env, method, path, d, s, masked) => {
          published(interceptedDraft(env, httpOperation(method, `/${path}`)));
          published(deniedDraft(env, d.reason, d));
          published(httpFailedDraft(env, s, d.reason, 503));
          published(httpCompletedDraft(env, { status: 200, durationMs: 2, upstreamMs: 1, bytesOut: 10, masked }));
          published(
            httpAuthFailedDraft(
              { sessionId: env.sessionId, requestId: env.requestId, connection: env.connection },
              { code: 'expired', reason: d.reason, method, path },
            ),
          );
          published(
            refusedCallEvent({ method, url: `/${path}?q=1` }, env.actor, 'forbidden', d.reason, 'ingress-proxy'),
          );
        },
      ),
      RUNS,
    );
  });

  it('approvals: operation.held and the denied outcome of an approval', () => {
    const states: ApprovalState[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
    fc.assert(
      fc.property(envelope, fc.constantFrom(...states), decision, text, (env, state, d, reason) => {
        const approvalId = uuidv7();
        published(
          heldDraft(env, {
            requestId: env.requestId,
            approvalId,
            state,
            expiresAt: new Date().toISOString(),
            reused: false,
          }),
        );
        published(approvalDeniedDraft(env, d, approvalId, state, reason));
      }),
      RUNS,
    );
  });
});
