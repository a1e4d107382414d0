/**
 * The Helm chart (deploy/helm/airlock): `helm lint`, `helm template` with the default and the
 * production-like values, every rendered manifest validated offline against the Kubernetes API
 * types (deploy/tools/k8s-validate), and what the chart promises: every component runs non-root on
 * a read-only root filesystem, secrets are only ever references, a missing reference stops the
 * rendering with a message that names it, each component has its NetworkPolicy with only the
 * flows of the design, and the chart's settings map onto what each service validates at boot.
 *
 * scripts/install-k8s-tools.sh builds helm and k8s-validate into .local/bin on first use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ApprovalConfigSchema } from '../services/approval/src/config';
import { VaultConfigSchema } from '../services/credential-vault/src/config';
import { IngressConfigSchema } from '../services/ingress-proxy/src/config';
import { PolicyConfigSchema } from '../services/policy/src/config';
import { RecorderConfigSchema } from '../services/recorder/src/config';

const ROOT = resolve(__dirname, '..');
const HELM = join(ROOT, '.local/bin/helm');
const VALIDATE = join(ROOT, '.local/bin/k8s-validate');
const CHART = join(ROOT, 'deploy/helm/airlock');
const PRODUCTION = join(CHART, 'values-production.yaml');
const DASHBOARD = join(ROOT, 'deploy/grafana/airlock-dashboard.json');

const SERVICES = ['ingress-proxy', 'policy', 'approval', 'recorder', 'credential-vault'] as const;
const COMPONENTS = [...SERVICES, 'console'] as const;
type Service = (typeof SERVICES)[number];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}
interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown; projected?: { sources: { secret?: { name: string } }[] } }[];
}
interface Peer {
  ipBlock?: { cidr: string };
  namespaceSelector?: unknown;
  podSelector?: { matchLabels?: Record<string, string> };
}
interface PolicyRule {
  ports?: { protocol?: string; port?: number }[];
  from?: Peer[];
  to?: Peer[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    minReplicas?: number;
    maxReplicas?: number;
    template?: { metadata: { annotations?: Record<string, string> }; spec: PodSpec };
    podSelector?: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
    ports?: { name: string; port: number; targetPort: string | number }[];
  };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { cwd: ROOT, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function helm(args: string[]): Run {
  return run(HELM, args);
}

/** `helm template` output, or the failure (status and stderr) when it does not render. */
function template(options: { values?: string[]; set?: string[] } = {}): Run {
  const args = ['template', 'airlock', CHART, '--namespace', 'airlock'];
  for (const f of options.values ?? []) args.push('-f', f);
  for (const s of options.set ?? []) args.push('--set', s);
  return helm(args);
}

function render(options: { values?: string[]; set?: string[] } = {}): { text: string; manifests: Manifest[] } {
  const r = template(options);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  const manifests = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { text: r.stdout, manifests };
}

const component = (m: Manifest): string | undefined => m.metadata.labels?.['app.kubernetes.io/component'];
const find = (ms: Manifest[], kind: string, comp: string): Manifest | undefined =>
  ms.find((m) => m.kind === kind && component(m) === comp);
function get(ms: Manifest[], kind: string, comp: string): Manifest {
  const m = find(ms, kind, comp);
  if (!m) throw new Error(`no ${kind} for ${comp}`);
  return m;
}
const container = (ms: Manifest[], comp: string): Container =>
  get(ms, 'Deployment', comp).spec!.template!.spec.containers[0];
const envOf = (c: Container): Map<string, EnvVar> => new Map((c.env ?? []).map((e) => [e.name, e]));
const egressPorts = (np: Manifest): number[] =>
  (np.spec!.egress ?? []).flatMap((r) => (r.ports ?? []).map((p) => p.port!)).sort((a, b) => a - b);
const ingressPorts = (np: Manifest): number[] =>
  (np.spec!.ingress ?? []).flatMap((r) => (r.ports ?? []).map((p) => p.port!)).sort((a, b) => a - b);

beforeAll(() => {
  // Builds helm and k8s-validate on the first run on a machine (minutes); then only checks them.
  execFileSync('bash', [join(ROOT, 'scripts/install-k8s-tools.sh')], { cwd: ROOT, stdio: 'inherit' });
}, 45 * 60_000);

describe('tools', () => {
  it('are the pinned helm and the repository k8s-validate', () => {
    expect(helm(['version', '--template', '{{.Version}}']).stdout).toBe('v4.3.2');
    expect(run(VALIDATE, ['-version']).stdout).toMatch(/^k8s-validate \d+/);
  });

  it('k8s-validate rejects what the API server would refuse (it is not a rubber stamp)', () => {
    const deployment = (spec: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: probe }
spec:
${spec}`;
    const good = deployment(`  selector: { matchLabels: { app: probe } }
  template:
    metadata: { labels: { app: probe } }
    spec:
      containers: [{ name: app, image: 'x:1', ports: [{ name: http, containerPort: 8080 }] }]`);
    expect(run(VALIDATE, [], good).status).toBe(0);
    const cases: [string, string, RegExp][] = [
      ['an unknown field', good.replace('image:', 'imagePullPolcy: Always, image:'), /unknown field/],
      ['a value of the wrong type', good.replace('containerPort: 8080', 'containerPort: "http"'), /schema/],
      [
        'a selector that misses the template',
        good.replace('labels: { app: probe }', 'labels: { app: other }'),
        /does not match/,
      ],
      ['a container without image', good.replace(`image: 'x:1', `, ''), /image: required/],
      ['a bad name', good.replace('name: probe', 'name: Probe_1'), /metadata.name/],
      ['a kind it does not know', good.replace('kind: Deployment', 'kind: Deploymnt'), /not a built-in kind/],
    ];
    for (const [what, text, message] of cases) {
      const r = run(VALIDATE, [], text);
      expect({ what, status: r.status }).toEqual({ what, status: 1 });
      expect(r.stdout).toMatch(message);
    }
  });
});

describe.each([
  ['default values', [] as string[]],
  ['production-like values', [PRODUCTION]],
])('the chart with %s', (_name, values) => {
  let manifests: Manifest[];
  let text: string;
  beforeAll(() => {
    ({ manifests, text } = render({ values }));
  });

  it('passes helm lint --strict', () => {
    const args = ['lint', '--strict', CHART];
    for (const f of values) args.push('-f', f);
    const r = helm(args);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it('renders manifests that validate against the Kubernetes API types', () => {
    const r = run(VALIDATE, ['-skip-kinds', 'ServiceMonitor'], text);
    expect(r.stdout).toMatch(/k8s-validate: \d+ documents, \d+ valid, 0 invalid/);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('INVALID');
  });

  it('has a Deployment, a Service, a ServiceAccount and a NetworkPolicy for every component', () => {
    for (const c of COMPONENTS) {
      for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'NetworkPolicy']) {
        expect({ c, kind, found: find(manifests, kind, c) !== undefined }).toEqual({ c, kind, found: true });
      }
    }
  });

  it('runs every container non-root on a read-only root filesystem, without privileges', () => {
    const deployments = manifests.filter((m) => m.kind === 'Deployment');
    expect(deployments).toHaveLength(COMPONENTS.length);
    for (const d of deployments) {
      const pod = d.spec!.template!.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        fsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      const tmp = pod.volumes?.find((v) => v.name === 'tmp');
      expect(tmp?.emptyDir).toBeDefined();
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext?.capabilities?.add).toBeUndefined();
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it('renders no Secret and puts no secret value in a manifest: only references', () => {
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    expect(text).not.toContain('BEGIN');
    const secretish = /PASSWORD$|_KEY$|LINK_KEY|WEBHOOK|SMTP_URL|^VAULT_KEK$/;
    let checked = 0;
    for (const c of SERVICES) {
      for (const e of container(manifests, c).env ?? []) {
        if (!secretish.test(e.name)) continue;
        checked++;
        expect({ c, env: e.name, value: e.value }).toEqual({ c, env: e.name, value: undefined });
        expect(e.valueFrom?.secretKeyRef?.name).toBeTruthy();
      }
      // A database or Redis URL built from values names its password by reference only.
      for (const name of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'REDIS_URL']) {
        const url = envOf(container(manifests, c)).get(name)?.value;
        if (url?.includes('@')) expect(url).toMatch(/^[a-z]+:\/\/[^:]*:\$\([A-Z_]+\)@/);
      }
    }
    // The database passwords and the link key at least: the check above looked at something.
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('mounts secret files read-only, from the referenced Secrets, not world-readable', () => {
    for (const c of SERVICES) {
      const d = get(manifests, 'Deployment', c);
      const secrets = d.spec!.template!.spec.volumes!.find((v) => v.name === 'secrets');
      expect(secrets?.projected).toMatchObject({ defaultMode: 0o440 });
      expect(container(manifests, c).volumeMounts).toContainEqual({
        name: 'secrets',
        mountPath: '/run/secrets/airlock',
        readOnly: true,
      });
      for (const [name, e] of envOf(container(manifests, c))) {
        if (name.endsWith('_FILE') && !['CONNECTIONS_FILE', 'POLICY_FILE'].includes(name)) {
          expect(e.value).toMatch(/^\/run\/secrets\/airlock\//);
        }
      }
    }
  });

  it('probes /livez and /readyz on the HTTP port and annotates the pods for Prometheus', () => {
    for (const c of SERVICES) {
      const ctr = container(manifests, c);
      expect(ctr.livenessProbe?.httpGet).toEqual({ path: '/livez', port: 'http' });
      expect(ctr.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      const port = ctr.ports!.find((p) => p.name === 'http')!.containerPort;
      expect(get(manifests, 'Deployment', c).spec!.template!.metadata.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
    }
  });

  it('gives every NetworkPolicy only the flows of the design', () => {
    const np = (c: string): Manifest => get(manifests, 'NetworkPolicy', c);
    for (const c of COMPONENTS) {
      expect(np(c).spec!.policyTypes).toEqual(['Ingress', 'Egress']);
      // DNS everywhere.
      expect(egressPorts(np(c))).toEqual(expect.arrayContaining([53]));
    }
    // The production-like values narrow Kafka to 9093 and export traces (OTLP on 4318).
    const kafka = values.length ? [9093] : [9092, 9093];
    const tracing = values.length ? [4318] : [];
    const dns = [53, 53];
    // policy: Kafka, the issuers' JWKS (its admin routes take tokens) and the trace collector; console: nothing but DNS.
    expect(egressPorts(np('policy'))).toEqual([...dns, ...kafka, 443, ...tracing].sort((a, b) => a - b));
    expect(egressPorts(np('console'))).toEqual(dns);
    // Only approval reaches Redis and the notification channels; PostgreSQL only from the
    // services with a database (and the ingress, for PostgreSQL upstreams).
    const redis = values.length ? 6380 : 6379;
    for (const c of COMPONENTS) {
      expect({ c, redis: egressPorts(np(c)).includes(redis) }).toEqual({ c, redis: c === 'approval' });
      expect({ c, smtp: egressPorts(np(c)).includes(587) }).toEqual({ c, smtp: c === 'approval' });
      expect({ c, pg: egressPorts(np(c)).includes(5432) }).toEqual({
        c,
        pg: ['approval', 'recorder', 'credential-vault', 'ingress-proxy'].includes(c),
      });
    }
    // Agents reach the ingress's HTTP and PostgreSQL ports; the other services take only their
    // HTTP port, from Prometheus and from the admin API's peers (the cluster's ingress controller,
    // in front of the console's browsers; none by default).
    expect(ingressPorts(np('ingress-proxy'))).toEqual([6543, 8080, 8080]);
    for (const c of ['policy', 'approval', 'recorder', 'credential-vault']) {
      const port = container(manifests, c).ports!.find((p) => p.name === 'http')!.containerPort;
      const rules = np(c).spec!.ingress!;
      expect(rules).toHaveLength(values.length ? 2 : 1);
      for (const r of rules) {
        expect(r.ports).toEqual([{ protocol: 'TCP', port }]);
        expect(r.from?.length).toBeGreaterThan(0);
      }
    }
  });

  it('maps onto what each service validates at boot', () => {
    // Alternatives the chart does not use: the KEK as a file (not VAULT_KEK/VAULT_KEK_ID), the
    // Kafka password as a file, and settings a newer one replaced.
    const unused = new Set([
      'VAULT_KEK',
      'VAULT_KEK_ID',
      'KAFKA_SASL_PASSWORD',
      'APPROVAL_ADMIN_GROUP',
      'VAULT_ADMIN_GROUP',
      'AUDITOR_GROUP',
      'POLICY_ADMIN_GROUP',
    ]);
    // Kafka's CA file, the upstream CA, the verify keys and the owner URL are optional references.
    const optional = new Set([
      'KAFKA_TLS_CA_FILE',
      'PG_UPSTREAM_CA_FILE',
      'AUDIT_VERIFY_KEYS_FILE',
      'SLACK_WEBHOOK_URL',
      'SMTP_URL',
      'OIDC_ALGORITHMS',
      // Set from console.publicUrl and tracing.otlpEndpoint when those are given.
      'CONSOLE_ORIGINS',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    ]);
    const schemas: Record<Service, { shape: Record<string, unknown> }> = {
      'ingress-proxy': IngressConfigSchema,
      policy: PolicyConfigSchema,
      approval: ApprovalConfigSchema,
      recorder: RecorderConfigSchema,
      'credential-vault': VaultConfigSchema,
    };
    const valuesKey: Record<Service, string> = {
      'ingress-proxy': 'ingressProxy',
      policy: 'policy',
      approval: 'approval',
      recorder: 'recorder',
      'credential-vault': 'credentialVault',
    };
    const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<
      string,
      { settings: Record<string, unknown> }
    >;
    for (const s of SERVICES) {
      const accepted = new Set(Object.keys(schemas[s].shape));
      const rendered = [...envOf(container(manifests, s)).keys()];
      const settings = Object.keys(defaults[valuesKey[s]].settings);
      // Everything the chart sets is a setting of the service (or a chart-internal variable that
      // a URL refers to, tracing's standard variable, or the console's origin, which the
      // services learn with the console).
      const external = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'CONSOLE_ORIGINS'];
      for (const name of [...rendered, ...settings]) {
        if (name.startsWith('AIRLOCK_') || external.includes(name)) continue;
        expect({ s, name, accepted: accepted.has(name) }).toEqual({ s, name, accepted: true });
      }
      // Every setting of the service is set by the chart or offered in values.yaml.
      const covered = new Set([...rendered, ...settings, ...unused, ...optional]);
      const missing = [...accepted].filter((k) => !covered.has(k));
      expect({ s, missing }).toEqual({ s, missing: [] });
    }
  });
});

describe('the production-like values', () => {
  let manifests: Manifest[];
  beforeAll(() => {
    ({ manifests } = render({ values: [PRODUCTION] }));
  });

  it('autoscale the ingress and keep pods through disruptions', () => {
    const hpa = get(manifests, 'HorizontalPodAutoscaler', 'ingress-proxy');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(get(manifests, 'Deployment', 'ingress-proxy').spec!.replicas).toBeUndefined();
    expect(get(manifests, 'PodDisruptionBudget', 'ingress-proxy').spec).toMatchObject({ minAvailable: 2 });
    expect(find(manifests, 'PodDisruptionBudget', 'recorder')).toBeDefined();
  });

  it('scrape with ServiceMonitors and ship the Grafana dashboard the repository holds', () => {
    for (const c of SERVICES) expect(find(manifests, 'ServiceMonitor', c)).toBeDefined();
    const cm = get(manifests, 'ConfigMap', 'grafana');
    const shipped = cm.data!['airlock-dashboard.json'];
    expect(JSON.parse(shipped)).toEqual(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  });

  it('verify PostgreSQL servers against the mounted CA and speak TLS to Redis', () => {
    const approval = envOf(container(manifests, 'approval'));
    expect(approval.get('DATABASE_URL')?.value).toContain('sslmode=verify-full&sslrootcert=/run/secrets/airlock/');
    expect(approval.get('REDIS_URL')?.value).toMatch(/^rediss:\/\//);
    expect(envOf(container(manifests, 'ingress-proxy')).get('KAFKA_TLS_CA_FILE')?.value).toBe(
      '/run/secrets/airlock/kafka-ca.crt',
    );
  });
});

describe('the chart refuses', () => {
  const required = [
    'trustedKeys',
    'ingressProxy.kafka.password',
    'ingressProxy.signingKey',
    'ingressProxy.postgres.tls',
    'policy.kafka.password',
    'policy.signingKey',
    'approval.kafka.password',
    'approval.signingKey',
    'approval.database.password',
    'approval.linkKey',
    'recorder.kafka.password',
    'recorder.auditSigningKey',
    'recorder.database.password',
    'recorder.database.owner.password',
    'credentialVault.kafka.password',
    'credentialVault.signingKey',
    'credentialVault.kek',
    'credentialVault.database.password',
  ];

  it.each(required)('to render without the Secret reference %s, and says which', (path) => {
    const r = template({ set: [`${path}.secretName=`] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${path}.secretName is required`);
  });

  it('a Secret reference through the chart without a key', () => {
    const r = template({ set: ['credentialVault.kek.key='] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/credentialVault/kek/key');
  });

  it.each([
    ['a writable root filesystem', 'containerSecurityContext.readOnlyRootFilesystem=false', 'readOnlyRootFilesystem'],
    ['running as root', 'podSecurityContext.runAsNonRoot=false', 'runAsNonRoot'],
    ['privilege escalation', 'containerSecurityContext.allowPrivilegeEscalation=true', 'allowPrivilegeEscalation'],
    ['an unknown setting', 'ingressProxy.settings.POLICY_TIMEOUT=5', "'POLICY_TIMEOUT' not allowed"],
    ['a setting out of range', 'ingressProxy.settings.PG_MAX_SESSIONS=0', 'PG_MAX_SESSIONS'],
    [
      'a secret passed as a plain variable',
      'approval.extraEnv[0].name=X,approval.extraEnv[0].valueFrom=y',
      'valueFrom',
    ],
    ['no Kafka broker', 'kafka.brokers=null', 'brokers'],
  ])('%s', (_what, set, message) => {
    const r = template({ set: [set] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('retention without the owner role that can drop partitions', () => {
    const r = template({ set: ['recorder.settings.AUDIT_RETENTION_DAYS=30', 'recorder.database.owner.user='] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set recorder.database.owner too');
  });
});

describe('the documentation', () => {
  it('describes every key of values.yaml in the README table (itself or the block it sits in)', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Za-z0-9_.]+)` +\|/gm)].map((m) => m[1]));
    const leaves = (v: unknown, path: string[]): string[][] =>
      v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
        ? Object.entries(v).flatMap(([k, w]) => leaves(w, [...path, k]))
        : [path];
    const all = leaves(values, []);
    expect(all.length).toBeGreaterThan(100);
    const undocumented = all
      .filter((path) => !path.some((_, i) => documented.has(path.slice(0, i + 1).join('.'))))
      .map((path) => path.join('.'));
    expect(undocumented).toEqual([]);
    // And the table names no key that values.yaml lacks.
    const known = new Set(all.flatMap((path) => path.map((_, i) => path.slice(0, i + 1).join('.'))));
    expect([...documented].filter((k) => !known.has(k))).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  interface Panel {
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    targets?: { expr: string; datasource: { uid: string } }[];
  }
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };

  it('queries Airlock metrics from the chosen data source in every panel, on a 24-column grid', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(20);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of panels) {
      expect({ title: p.title, targets: (p.targets ?? []).length > 0 }).toEqual({ title: p.title, targets: true });
      for (const t of p.targets!) {
        expect(t.expr).toMatch(/airlock_[a-z_]+/);
        expect(t.expr).toContain('namespace=~"$namespace"');
        expect(t.datasource.uid).toBe('${datasource}');
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('covers what the services measure', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of [
      'airlock_ingress_operations_total',
      'airlock_ingress_gateway_duration_seconds_bucket',
      'airlock_ingress_decisions_total',
      'airlock_ingress_masked_values_total',
      'airlock_approval_transitions_total',
      'airlock_approval_decision_seconds_bucket',
      'airlock_approval_notifications_total',
      'airlock_kafka_request_duration_seconds_bucket',
      'airlock_kafka_request_timeouts_total',
      'airlock_audit_backlog_events',
      'airlock_audit_publish_refusals_total',
      'airlock_recorder_lag_messages',
      'airlock_recorder_batch_size_bucket',
      'airlock_recorder_events_stored_total',
      'airlock_recorder_events_deadlettered_total',
      'airlock_vault_leases_issued_total',
      'airlock_vault_rotations_total',
      'airlock_ingress_pg_sessions_open',
    ]) {
      expect({ metric, shown: exprs.includes(metric) }).toEqual({ metric, shown: true });
    }
  });
});

describe('optional parts', () => {
  it('leave the console out when console.enabled is false', () => {
    const { manifests } = render({ set: ['console.enabled=false'] });
    expect(manifests.filter((m) => component(m) === 'console')).toEqual([]);
    // Nothing else points at console pods then.
    expect(JSON.stringify(manifests)).not.toContain('"app.kubernetes.io/component":"console"');
  });

  it('tell the console where to sign in and the services to accept its origin', () => {
    const { manifests } = render({
      set: ['console.publicUrl=https://airlock.example.com/console', 'console.settings.CONSOLE_OIDC_CLIENT_ID=web'],
    });
    const consoleEnv = envOf(container(manifests, 'console'));
    expect(consoleEnv.get('CONSOLE_HOST')?.value).toBe('0.0.0.0');
    expect(consoleEnv.get('CONSOLE_PORT')?.value).toBe('8090');
    expect(consoleEnv.get('CONSOLE_OIDC_ISSUER')?.value).toBe('https://login.example.com/');
    expect(consoleEnv.get('CONSOLE_OIDC_CLIENT_ID')?.value).toBe('web');
    for (const c of SERVICES) {
      expect(envOf(container(manifests, c)).get('CONSOLE_ORIGINS')?.value).toBe('https://airlock.example.com');
    }
    expect(container(manifests, 'console').readinessProbe?.httpGet?.path).toBe('/health');
  });

  it('leave NetworkPolicies out only when asked', () => {
    const { manifests } = render({ set: ['networkPolicy.enabled=false'] });
    expect(manifests.filter((m) => m.kind === 'NetworkPolicy')).toEqual([]);
  });

  it('take OIDC settings from a Secret when identity.existingSecret is set', () => {
    const { manifests } = render({ set: ['identity.existingSecret=airlock-oidc'] });
    for (const c of ['ingress-proxy', 'approval', 'recorder', 'credential-vault']) {
      expect(envOf(container(manifests, c)).get('OIDC_ISSUERS')?.valueFrom?.secretKeyRef).toEqual({
        name: 'airlock-oidc',
        key: 'oidc-issuers',
      });
    }
  });
});
