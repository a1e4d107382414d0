/** Per issuer: the groups that grant a role there (docs/roles.md). */
export type GroupsByIssuer = Record<string, string[]>;

/** What the console is told at run time by the server that serves it (`/config.json`). */
export interface ConsoleConfig {
  /** The OIDC issuer people sign in with. */
  issuer: string;
  clientId: string;
  /** Scopes asked for; `openid` at least. */
  scope: string;
  services: { approval: string; recorder: string; policy: string; vault: string };
  /** The services' role settings, so the console can say what a person may do; the services decide. */
  roles: {
    vaultAdmin: GroupsByIssuer;
    approvalAdmin: GroupsByIssuer;
    approver: GroupsByIssuer;
    auditor: GroupsByIssuer;
  };
}

export async function loadConfig(): Promise<ConsoleConfig> {
  // Relative to the page's base: the console may live under a path. Served with no-store.
  const response = await fetch('config.json');
  if (!response.ok) throw new Error(`the console's settings (/config.json) answered ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}
