import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditStoreClient,
  EchoUpstream,
  PgUpstreamDatabase,
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  selfSignedCertificate,
  infraEnv,
  repoRoot,
  runId,
} from '@airlock/testing';

export interface SystemOptions {
  policyTimeoutMs?: number;
  /** Also open the ingress's PostgreSQL listener (TLS with a fresh self-signed certificate). */
  postgres?: boolean;
  /** PG_UPSTREAM_CA_FILE of the ingress: the CA upstream certificates are checked against (verify-full). */
  pgUpstreamCaFile?: string;
  /** More settings for the ingress (e.g. INGRESS_WORKERS). */
  ingressEnv?: Record<string, string>;
  /** More settings for the approval service (e.g. SLACK_WEBHOOK_URL, SMTP_URL, EMAIL_TO). */
  approvalEnv?: Record<string, string>;
  /** Settings for every service (e.g. CONSOLE_ORIGINS for the web console, OTEL_EXPORTER_OTLP_ENDPOINT). */
  serviceEnv?: Record<string, string>;
}

/**
 * The whole system for an end-to-end test file: a test identity provider, an echo upstream,
 * and the five services as processes on free ports, on the real local Kafka and PostgreSQL
 * (a database of its own) and Redis. Consumer groups carry a fresh prefix.
 */
export class TestSystem {
  idp!: TestIdentityProvider;
  /**
   * A second trusted issuer: its tokens are accepted everywhere, but the role settings give
   * none of its groups the administrator, approver or auditor role.
   */
  partnerIdp!: TestIdentityProvider;
  upstream!: EchoUpstream;
  db!: TestDatabase;
  audit!: AuditStoreClient;
  policy!: ServiceProcess;
  recorder!: ServiceProcess;
  ingress!: ServiceProcess;
  vault!: ServiceProcess;
  approval!: ServiceProcess;
  readonly groupPrefix = `test-${runId()}`;
  readonly workDir = mkdtempSync(join(tmpdir(), 'airlock-e2e-'));
  policyFile = join(this.workDir, 'policy.yaml');
  connectionsFile = join(this.workDir, 'connections.yaml');
  /** The ingress's PostgreSQL port, when started with `postgres: true`. */
  pgPort = 0;
  /** More instances of a service beside the first (startReplica), stopped with the system. */
  readonly replicas: ServiceProcess[] = [];
  private readonly envOf = new Map<'ingress-proxy' | 'recorder', Record<string, string>>();

  async start(opts: SystemOptions = {}): Promise<this> {
    const infra = infraEnv();
    this.idp = await TestIdentityProvider.start();
    this.partnerIdp = await TestIdentityProvider.start();
    this.upstream = await EchoUpstream.start();
    this.db = await TestDatabase.create();
    this.audit = new AuditStoreClient(this.db);
    copyFileSync(join(repoRoot(), 'test', 'fixtures', 'policy.yaml'), this.policyFile);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      this.connectionsFile,
      `connections:\n  demo:\n    protocol: http\n    upstream: ${this.upstream.url}\n  down:\n    protocol: http\n    upstream: http://127.0.0.1:9\n`,
    );
    const common = { KAFKA_BROKERS: infra.KAFKA_BROKERS, KAFKA_GROUP_PREFIX: this.groupPrefix, ...opts.serviceEnv };
    const [pPolicy, pRecorder, pIngress, pVault, pApproval] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const identity = {
      OIDC_ISSUERS: JSON.stringify([
        { issuer: this.idp.issuer, jwksUri: this.idp.jwksUri },
        { issuer: this.partnerIdp.issuer, jwksUri: this.partnerIdp.jwksUri },
      ]),
      OIDC_AUDIENCE: 'airlock',
    };
    // Roles are the first issuer's only: a partner token with the same group names grants nothing.
    const roles = (groups: string[]) => JSON.stringify({ [this.idp.issuer]: groups });
    this.policy = new ServiceProcess('policy', pPolicy, {
      ...common,
      ...identity,
      POLICY_FILE: this.policyFile,
      POLICY_ADMIN_GROUPS: roles(['airlock-admins']),
    });
    // A fresh store: start at the end of the audit stream rather than replay every earlier run.
    this.envOf.set('recorder', {
      ...common,
      ...identity,
      ...this.db.recorderEnv(this.workDir),
      AUDITOR_GROUPS: roles(['airlock-auditors']),
      AUDIT_START_FROM: 'latest',
      AUDIT_CHECKPOINT_INTERVAL_MS: '1000',
    });
    this.recorder = new ServiceProcess('recorder', pRecorder, this.envOf.get('recorder')!);
    this.vault = new ServiceProcess('credential-vault', pVault, {
      ...common,
      ...identity,
      DATABASE_URL: this.db.url,
      VAULT_ADMIN_GROUPS: roles(['airlock-admins']),
      VAULT_KEK: randomBytes(32).toString('base64'),
      VAULT_KEK_ID: 'e2e-1',
    });
    this.approval = new ServiceProcess('approval', pApproval, {
      ...common,
      ...identity,
      DATABASE_URL: this.db.url,
      REDIS_URL: infra.REDIS_URL,
      APPROVAL_LINK_KEY: randomBytes(32).toString('base64'),
      APPROVAL_ADMIN_GROUPS: roles(['airlock-admins']),
      APPROVAL_APPROVER_GROUPS: roles(['*']),
      // Queues of their own: a test's jobs never meet another run's workers.
      APPROVAL_QUEUE_PREFIX: `airlock-${this.groupPrefix}`,
      ...opts.approvalEnv,
    });
    let pg: Record<string, string> = {};
    if (opts.postgres) {
      this.pgPort = await freePort();
      const tls = selfSignedCertificate(this.workDir);
      pg = {
        PG_PORT: String(this.pgPort),
        PG_TLS_CERT_FILE: tls.certFile,
        PG_TLS_KEY_FILE: tls.keyFile,
        ...(opts.pgUpstreamCaFile ? { PG_UPSTREAM_CA_FILE: opts.pgUpstreamCaFile } : {}),
      };
    }
    this.envOf.set('ingress-proxy', {
      ...common,
      ...identity,
      CONNECTIONS_FILE: this.connectionsFile,
      POLICY_TIMEOUT_MS: String(opts.policyTimeoutMs ?? 1500),
      ...opts.ingressEnv,
    });
    this.ingress = new ServiceProcess('ingress-proxy', pIngress, { ...this.envOf.get('ingress-proxy')!, ...pg });
    // The recorder runs the migrations; start it first so the others share a ready database.
    await this.recorder.start();
    await Promise.all([this.policy.start(), this.vault.start(), this.approval.start()]);
    await this.ingress.start();
    return this;
  }

  token(sub = 'agent-e2e', groups = ['agents']): Promise<string> {
    return this.idp.sign({ sub, groups });
  }

  /** A token of the second trusted issuer. */
  partnerToken(sub: string, groups: string[]): Promise<string> {
    return this.partnerIdp.sign({ sub, groups });
  }

  async call(
    path: string,
    init: RequestInit & { token?: string | null } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; text: string; headers: Headers; ms: number }> {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? await this.token() : init.token;
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    const started = performance.now();
    const res = await fetch(`${this.ingress.url}${path}`, { ...init, headers });
    const text = await res.text();
    const ms = performance.now() - started;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, text, headers: res.headers, ms };
  }

  /** A call to the vault's admin API as an administrator (or as `token` when given). */
  async admin(
    path: string,
    init: RequestInit & { token?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    const token = init.token ?? (await this.token('admin-e2e', ['airlock-admins']));
    return jsonCall(`${this.vault.url}${path}`, { ...init, token });
  }

  /** A call to the approval service's API (a path, or a link's whole URL) as `token` (an approver's, say). */
  approvalApi(
    path: string,
    init: RequestInit & { token: string },
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    return jsonCall(path.startsWith('http') ? path : `${this.approval.url}${path}`, init);
  }

  /** A PostgreSQL connection in the vault, leading to `up` with its role's credential. */
  async addPgConnection(name: string, up: PgUpstreamDatabase, sslmode = 'disable'): Promise<void> {
    const created = await this.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({
        name,
        protocol: 'postgres',
        upstream: up.upstreamUrl(sslmode),
        credentialKind: 'postgres-password',
      }),
    });
    if (created.status !== 201) throw new Error(`creating connection ${name}: ${created.status} ${created.text}`);
    const set = await this.admin(`/connections/${name}/secret`, {
      method: 'PUT',
      body: JSON.stringify({ username: up.user, password: up.password }),
    });
    if (set.status !== 200) throw new Error(`setting the secret of ${name}: ${set.status} ${set.text}`);
  }

  /**
   * Starts one more instance of the ingress (HTTP only) or of the recorder, with the settings of
   * the first, on a port of its own: the scale-out tests run two of each on the same Kafka.
   */
  async startReplica(name: 'ingress-proxy' | 'recorder'): Promise<ServiceProcess> {
    const env = this.envOf.get(name);
    if (!env) throw new Error('start the system first');
    const p = new ServiceProcess(name, await freePort(), env);
    this.replicas.push(p);
    return p.start();
  }

  async stop(): Promise<void> {
    await Promise.allSettled([
      this.ingress?.stop(),
      this.policy?.stop(),
      this.vault?.stop(),
      this.approval?.stop(),
      ...this.replicas.filter((r) => r.name !== 'recorder').map((r) => r.stop()),
    ]);
    await Promise.allSettled([
      this.recorder?.stop(),
      ...this.replicas.filter((r) => r.name === 'recorder').map((r) => r.stop()),
    ]);
    await Promise.allSettled([this.idp?.stop(), this.partnerIdp?.stop(), this.upstream?.stop()]);
    await this.db?.drop();
  }
}

/** A JSON call with a bearer token; the body is parsed when it is JSON. */
async function jsonCall(
  url: string,
  init: RequestInit & { token: string },
): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('content-type', 'application/json');
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, text };
}
