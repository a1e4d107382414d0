import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CredentialKind, Principal, Protocol } from '@airlock/contracts';

/** Who did something, as stored: the principal without its groups, which change over time. */
export interface StoredActor {
  issuer: string;
  subject: string;
}

/** A connection an agent may use: where its upstream is and which kind of credential it takes. */
@Entity({ name: 'vault_connection' })
export class ConnectionEntity {
  @PrimaryColumn('text')
  name!: string;

  @Column('text')
  protocol!: Protocol;

  /** Never with userinfo: credentials live in `vault_secret` only. */
  @Column('text')
  upstream!: string;

  @Column('text', { name: 'credential_kind' })
  credentialKind!: CredentialKind;

  /** Lower-case request headers the ingress strips from the agent's request. */
  @Column('text', { name: 'agent_credential_headers', array: true })
  agentCredentialHeaders!: string[];

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('jsonb', { name: 'created_by' })
  createdBy!: StoredActor;
}

export function storedActor(principal: Principal): StoredActor {
  return { issuer: principal.issuer, subject: principal.subject };
}
