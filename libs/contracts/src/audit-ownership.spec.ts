import { AUDIT_EVENT_OWNERS, auditOwnershipViolation } from './audit-ownership';
import { AuditEventTypes } from './audit';

describe('audit event ownership', () => {
  it('names an owner for every audit event type', () => {
    for (const type of Object.values(AuditEventTypes))
      expect([type, AUDIT_EVENT_OWNERS[type]?.length > 0]).toEqual([type, true]);
  });

  it('lets only the ingress write operation, statement and session events', () => {
    for (const type of ['operation.completed', 'statement.completed', 'session.started', 'operation.held']) {
      expect(auditOwnershipViolation({ type, source: 'ingress-proxy' })).toBeUndefined();
      expect(auditOwnershipViolation({ type, source: 'policy' })).toMatch(/policy may not write/);
      expect(auditOwnershipViolation({ type, source: 'credential-vault' })).toMatch(/may not write/);
    }
  });

  it('lets only the vault write vault events and only the approval service approval events', () => {
    expect(auditOwnershipViolation({ type: 'vault.lease_issued', source: 'credential-vault' })).toBeUndefined();
    expect(auditOwnershipViolation({ type: 'vault.lease_issued', source: 'ingress-proxy' })).toMatch(
      /only credential-vault/,
    );
    expect(auditOwnershipViolation({ type: 'approval.changed', source: 'approval' })).toBeUndefined();
    expect(auditOwnershipViolation({ type: 'approval.changed', source: 'recorder' })).toMatch(/only approval/);
  });

  it('lets every service report failed authentication and rejected messages, and nobody else', () => {
    for (const source of ['ingress-proxy', 'policy', 'approval', 'recorder', 'credential-vault']) {
      expect(auditOwnershipViolation({ type: 'auth.failed', source })).toBeUndefined();
      expect(auditOwnershipViolation({ type: 'message.rejected', source })).toBeUndefined();
    }
    expect(auditOwnershipViolation({ type: 'auth.failed', source: 'audit-traffic' })).toMatch(/may not write/);
    expect(auditOwnershipViolation({ type: 'auth.failed', source: 'siem' })).toMatch(/may not write/);
  });

  it('refuses a type nobody owns', () => {
    expect(auditOwnershipViolation({ type: 'made.up', source: 'ingress-proxy' })).toMatch(/no service owns/);
  });
});
