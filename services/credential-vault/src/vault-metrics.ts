import { counter } from '@airlock/observability';

/** Leases handed out (their issue is on the audit trail), by connection. */
export const leasesIssued = counter({
  name: 'airlock_vault_leases_issued_total',
  help: 'Credential leases issued to ingress instances, by connection.',
  labelNames: ['connection'],
});

/** Secret rotations announced on airlock.vault.rotated, by connection. */
export const rotations = counter({
  name: 'airlock_vault_rotations_total',
  help: 'Secret rotations announced to the ingress instances, by connection.',
  labelNames: ['connection'],
});
