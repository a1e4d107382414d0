import { randomUUID } from 'node:crypto';
import { uuidv7 } from './ids';
import type { AuditEventDraft } from './audit';

/* Sample audit drafts, one or more of every event type, for the contract's own tests. */

const agent = { issuer: 'https://idp.example', subject: 'agent-1', groups: ['agents'] };
const admin = { issuer: 'https://idp.example', subject: 'admin-1', groups: ['airlock-admins'] };
const ingress = { actor: agent, connection: 'demo', protocol: 'http', source: 'ingress-proxy' } as const;
const vault = { actor: admin, connection: 'billing', protocol: 'http', source: 'credential-vault' } as const;

/** Drafts as the ingress and the vault fill them in, optional fields as they leave them. */
export function sampleAuditDrafts(): AuditEventDraft[] {
  const session = { sessionId: uuidv7(), requestId: uuidv7() };
  const vaultCall = () => ({ sessionId: uuidv7(), requestId: uuidv7() });
  const operation = { kind: 'http', method: 'GET', path: '/items' } as const;
  return [
    {
      ...session,
      ...ingress,
      actor: null,
      type: 'auth.failed',
      data: { code: 'expired', reason: 'The token has expired.', method: 'GET', path: '/items' },
    },
    {
      ...vaultCall(),
      ...vault,
      connection: null,
      type: 'auth.failed',
      data: { code: 'forbidden', reason: 'administrators only', method: 'POST', path: '/connections' },
    },
    { ...session, ...ingress, type: 'operation.intercepted', data: { operation } },
    {
      ...session,
      ...ingress,
      type: 'operation.decided',
      data: {
        decision: 'allow',
        reason: 'agents-read: agents may read',
        ruleId: 'agents-read',
        policyVersion: 'e2e@3f2a',
        masking: ['secrets'],
        cached: false,
      },
    },
    {
      ...session,
      ...ingress,
      type: 'operation.decided',
      data: {
        decision: 'deny',
        reason: 'no rule allows DELETE /items on connection demo',
        ruleId: undefined,
        policyVersion: 'e2e@3f2a',
        masking: [],
        cached: true,
      },
    },
    {
      ...session,
      ...ingress,
      type: 'operation.completed',
      data: { status: 200, durationMs: 12.5, upstreamMs: 3.25, bytesOut: 512, masked: { 'field:password': 2 } },
    },
    {
      ...session,
      ...ingress,
      type: 'operation.completed',
      data: { status: 204, durationMs: 1, upstreamMs: 0.5, bytesOut: 0 },
    },
    {
      ...session,
      ...ingress,
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      type: 'operation.completed',
      data: { status: 200, durationMs: 2, upstreamMs: 1, bytesOut: 10 },
    },
    {
      ...session,
      ...ingress,
      type: 'operation.denied',
      data: { reason: 'no-secrets: the secrets API is off limits', ruleId: 'no-secrets', policyVersion: 'e2e@3f2a' },
    },
    {
      ...session,
      ...ingress,
      connection: 'down',
      type: 'operation.failed',
      data: { stage: 'upstream', reason: 'the upstream of connection "down" did not answer', status: 502 },
    },
    {
      ...session,
      ...ingress,
      connection: null,
      type: 'operation.failed',
      data: { stage: 'routing', reason: 'no connection named "Not_A*Name"', status: 404 },
    },
    {
      ...vaultCall(),
      ...vault,
      type: 'vault.connection_created',
      data: { protocol: 'http', upstream: 'https://billing.internal/api', credentialKind: 'bearer' },
    },
    {
      ...vaultCall(),
      ...vault,
      type: 'vault.secret_set',
      data: { secretVersion: 2, keyId: 'k1', rotation: true },
    },
    {
      ...vaultCall(),
      ...vault,
      actor: null,
      type: 'vault.lease_issued',
      data: {
        leaseId: uuidv7(),
        secretVersion: 2,
        ingressInstance: 'ingress-1',
        expiresAt: new Date(Date.now() + 120_000).toISOString(),
      },
    },
    {
      ...session,
      ...ingress,
      protocol: 'postgres',
      type: 'operation.intercepted',
      data: {
        operation: {
          kind: 'postgres',
          via: 'extended',
          sql: 'SELECT name FROM customers WHERE id = $1',
          fingerprint: '0a1b2c3d4e5f6071',
          parsed: true,
          statements: [{ command: 'SELECT', class: 'read', tables: ['customers'], functions: [], risks: [] }],
          paramCount: 1,
        },
      },
    },
    {
      ...session,
      ...ingress,
      protocol: 'postgres',
      type: 'session.started',
      data: { client: '127.0.0.1:50432', tls: true, applicationName: 'psql', leaseId: uuidv7() },
    },
    {
      ...session,
      ...ingress,
      protocol: 'postgres',
      type: 'statement.completed',
      data: {
        command: 'SELECT',
        rows: 2,
        durationMs: 1.5,
        rowsMasked: 2,
        masked: { 'column:public.customers.ssn': 2 },
      },
    },
    {
      ...session,
      ...ingress,
      protocol: 'postgres',
      type: 'statement.completed',
      data: {
        command: 'SELECT',
        rows: 1,
        durationMs: 0.4,
        rowsMasked: 0,
        operation: {
          kind: 'postgres',
          via: 'simple',
          sql: 'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
          fingerprint: '348bee4e67e86ca6',
          parsed: true,
          statements: [{ command: 'SELECT', class: 'read', tables: ['pgbench_accounts'], functions: [], risks: [] }],
          paramCount: 0,
        },
        decision: {
          decision: 'allow',
          reason: 'bench-agents',
          ruleId: 'bench-agents',
          policyVersion: 'sha256:22d9b7f90966bca2',
          masking: ['secrets'],
          cached: true,
        },
      },
    },
    {
      ...session,
      ...ingress,
      protocol: 'postgres',
      type: 'statement.failed',
      data: { stage: 'policy', reason: 'the policy service did not answer; statement refused', sqlstate: '57P03' },
    },
    {
      ...session,
      ...ingress,
      protocol: 'postgres',
      type: 'session.ended',
      data: { reason: 'client', durationMs: 1200, statements: 3, denied: 1 },
    },
    {
      ...vaultCall(),
      ...vault,
      actor: { issuer: 'local', subject: 'ops@vault-host', groups: [] },
      connection: null,
      type: 'vault.key_rewrapped',
      data: { fromKeyId: 'k1', toKeyId: 'k2', records: 2 },
    },
    {
      ...session,
      ...ingress,
      type: 'operation.held',
      data: { approvalId: randomUUID(), state: 'pending', reused: false, expiresAt: new Date().toISOString() },
    },
    {
      ...session,
      ...ingress,
      actor: admin,
      source: 'approval',
      type: 'approval.changed',
      data: {
        approvalId: randomUUID(),
        action: 'approve',
        from: 'pending',
        to: 'approved',
        approvals: 1,
        required: 1,
        reason: 'looks right',
        via: 'api',
        expiresAt: new Date().toISOString(),
        grantUntil: new Date().toISOString(),
      },
    },
    {
      ...session,
      ...ingress,
      actor: null,
      source: 'approval',
      type: 'approval.notified',
      data: { approvalId: randomUUID(), channel: 'slack', outcome: 'failed', attempts: 1, reason: 'HTTP 404' },
    },
    {
      ...session,
      ...ingress,
      actor: null,
      type: 'message.rejected',
      data: {
        topic: 'airlock.policy.evaluate.reply',
        reason:
          'message on airlock.policy.evaluate.reply is signed with key 0123456789abcdef, not a trusted key of policy',
        signer: 'policy',
        keyId: '0123456789abcdef',
      },
    },
  ];
}
