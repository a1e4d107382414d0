import type { ConsoleConfig } from './config';

/** The signed-in person: their own access token, kept in this tab only (sessionStorage). */
export interface Session {
  accessToken: string;
  issuer: string;
  subject: string;
  groups: string[];
  /** Epoch seconds. */
  expiresAt: number;
}

export interface Roles {
  vaultAdmin: boolean;
  approvalAdmin: boolean;
  approver: boolean;
  auditor: boolean;
}

/** Roles as the services compute them: a group counts only under the issuer it is listed for. */
export function rolesOf(session: Session, config: ConsoleConfig): Roles {
  const holds = (byIssuer: Record<string, string[]>): boolean => {
    const groups = byIssuer[session.issuer] ?? [];
    return groups.includes('*') ? session.groups.length > 0 : session.groups.some((g) => groups.includes(g));
  };
  return {
    vaultAdmin: holds(config.roles.vaultAdmin),
    approvalAdmin: holds(config.roles.approvalAdmin),
    approver: holds(config.roles.approver),
    auditor: holds(config.roles.auditor),
  };
}
