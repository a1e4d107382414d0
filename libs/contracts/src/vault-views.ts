import type { Protocol } from './common';
import type { CredentialKind } from './requests';

/*
 * What the credential vault's admin API answers about connections (GET /connections, POST, the
 * secret routes). The vault builds these; the CLI and the console read them.
 */

/** Who created a connection or set its secret. */
export interface ConnectionActor {
  issuer: string;
  subject: string;
}

/** A connection as the admin API shows it: metadata only, never secret material. */
export interface ConnectionView {
  name: string;
  protocol: Protocol;
  upstream: string;
  credentialKind: CredentialKind;
  agentCredentialHeaders: string[];
  /** The current secret's version; null until a secret is set. */
  secretVersion: number | null;
  /** When the current secret version was stored: the last rotation (or the first secret). */
  secretSetAt: string | null;
  /** Who stored it. */
  secretSetBy: ConnectionActor | null;
  createdAt: string;
  createdBy: ConnectionActor;
}
