import type { AuditEventType } from './audit';
import type { ServicePrincipal } from './topics';

const EVERY_SERVICE: readonly ServicePrincipal[] = [
  'ingress-proxy',
  'policy',
  'approval',
  'recorder',
  'credential-vault',
];

/**
 * Which services may write each audit event type (the `source` an event must name). The broker
 * lets every service write `airlock.audit`; this table keeps a service to its own events, so a
 * leaked policy credential cannot put `operation.completed` or `vault.lease_issued` on the stream.
 */
export const AUDIT_EVENT_OWNERS: Readonly<Record<AuditEventType, readonly ServicePrincipal[]>> = {
  // Every service authenticates callers of its own API, and every one checks signatures.
  'auth.failed': EVERY_SERVICE,
  'message.rejected': EVERY_SERVICE,
  'operation.intercepted': ['ingress-proxy'],
  'operation.decided': ['ingress-proxy'],
  'operation.completed': ['ingress-proxy'],
  'operation.denied': ['ingress-proxy'],
  'operation.failed': ['ingress-proxy'],
  'operation.held': ['ingress-proxy'],
  'session.started': ['ingress-proxy'],
  'session.ended': ['ingress-proxy'],
  'statement.completed': ['ingress-proxy'],
  'statement.failed': ['ingress-proxy'],
  'vault.connection_created': ['credential-vault'],
  'vault.secret_set': ['credential-vault'],
  'vault.lease_issued': ['credential-vault'],
  'vault.key_rewrapped': ['credential-vault'],
  'approval.changed': ['approval'],
  'approval.notified': ['approval'],
};

/**
 * Why an audit event may not be stored as it is: its `source` does not own its type. Undefined
 * when it may. Pure, for the recorder's acceptance check (and any consumer that wants the same rule).
 */
export function auditOwnershipViolation(event: { type: string; source: string }): string | undefined {
  const owners = (AUDIT_EVENT_OWNERS as Record<string, readonly string[] | undefined>)[event.type];
  if (!owners) return `no service owns the audit event type ${event.type}`;
  if (!owners.includes(event.source)) {
    return `${event.source} may not write ${event.type} events (only ${owners.join(', ')})`;
  }
  return undefined;
}
