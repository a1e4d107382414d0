/**
 * Static checks of the container topology: docker-compose.yml, the Dockerfile it builds and
 * .dockerignore. Pure: reads files, starts nothing (no Docker engine is assumed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { serviceNodeFlags } from '@airlock/runtime';

type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

interface ComposeService {
  image?: string;
  build?:
    | string
    | { context?: string; target?: string; dockerfile?: string; args?: Record<string, unknown> | string[] };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: Condition }>;
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  ports?: (string | number)[];
  restart?: string;
  user?: string;
  secrets?: (string | { source: string; target?: string })[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { content?: string; file?: string }>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

interface DockerStage {
  from: string;
  name: string | undefined;
  /** Instructions with continuation lines joined, e.g. `CMD ["node", "x.js"]`. */
  instructions: string[];
}

const ROOT = findRepoRoot(__dirname);
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

const COMMON_ENV = ['HTTP_HOST', 'HTTP_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL'];
const KAFKA_READY: Record<string, Condition> = {
  kafka: 'service_healthy',
  'kafka-init': 'service_completed_successfully',
};

const APP_SERVICES: Record<
  string,
  { port: number; extraPorts?: number[]; env: string[]; dependsOn: Record<string, Condition> }
> = {
  'ingress-proxy': {
    port: 8080,
    // The PostgreSQL listener.
    extraPorts: [6543],
    env: [
      'OIDC_ISSUERS',
      'OIDC_AUDIENCE',
      'CONNECTIONS_FILE',
      'POLICY_TIMEOUT_MS',
      'PG_PORT',
      'PG_TLS_CERT_FILE',
      'PG_TLS_KEY_FILE',
      'PG_MAX_SESSIONS_PER_PRINCIPAL',
      'PG_MAX_SESSIONS_PER_CONNECTION',
    ],
    dependsOn: {
      ...KAFKA_READY,
      policy: 'service_healthy',
      'credential-vault': 'service_healthy',
      recorder: 'service_started',
    },
  },
  policy: { port: 8081, env: ['POLICY_FILE'], dependsOn: KAFKA_READY },
  approval: {
    port: 8082,
    env: [
      'DATABASE_URL',
      'REDIS_URL',
      'OIDC_ISSUERS',
      'OIDC_AUDIENCE',
      'APPROVAL_LINK_KEY',
      'APPROVAL_PUBLIC_URL',
      'APPROVAL_ADMIN_GROUPS',
      'APPROVAL_APPROVER_GROUPS',
    ],
    dependsOn: { ...KAFKA_READY, postgres: 'service_healthy', redis: 'service_healthy' },
  },
  recorder: {
    port: 8083,
    env: [
      'DATABASE_URL',
      'DATABASE_OWNER_URL',
      'AUDIT_SIGNING_KEY_FILE',
      'OIDC_ISSUERS',
      'OIDC_AUDIENCE',
      'AUDITOR_GROUPS',
    ],
    dependsOn: { ...KAFKA_READY, postgres: 'service_healthy' },
  },
  'credential-vault': {
    port: 8084,
    env: ['DATABASE_URL', 'VAULT_KEK', 'VAULT_KEK_ID', 'OIDC_ISSUERS', 'OIDC_AUDIENCE', 'VAULT_ADMIN_GROUPS'],
    dependsOn: { ...KAFKA_READY, postgres: 'service_healthy' },
  },
};
const APP_NAMES = Object.keys(APP_SERVICES);
const INFRA = { kafka: 'apache/kafka:4.1.1', postgres: 'postgres:15', redis: 'redis:7' };
const initScript = compose.configs?.['postgres-service-databases']?.content ?? '';

describe('docker-compose.yml', () => {
  it('names the five services, kafka-init, the console and the infrastructure, nothing else', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [...APP_NAMES, 'kafka-init', 'console', ...Object.keys(INFRA)].sort(),
    );
  });

  describe.each(APP_NAMES)('%s', (name) => {
    const spec = APP_SERVICES[name];
    const service = compose.services[name];
    const env = environmentOf(service);

    it('builds its own Dockerfile target from the repository root', () => {
      expect(service.build).toEqual({ context: '.', target: name });
      expect(stageNamed(name).from).toBe('runtime');
      // With the service's own Node flags (libs/runtime/src/node-flags.ts), as scripts/up.sh starts it.
      expect(cmdOf(name)).toEqual(['node', ...serviceNodeFlags(name), `dist/services/${name}/src/main.js`]);
    });

    it('sets every variable it reads, none of them empty', () => {
      for (const key of [...COMMON_ENV, ...spec.env]) {
        expect({ key, value: withDefaults(env[key] ?? '') }).toEqual({ key, value: expect.stringMatching(/\S/) });
      }
      expect(env.HTTP_HOST).toBe('0.0.0.0');
      expect(env.HTTP_PORT).toBe(String(spec.port));
    });

    it('publishes its ports on the loopback interface only', () => {
      expect(service.ports).toEqual([spec.port, ...(spec.extraPorts ?? [])].map((p) => `127.0.0.1:${p}:${p}`));
    });

    it('is healthy only when GET /health on its HTTP_PORT answers 2xx', () => {
      expect(service.healthcheck?.disable).not.toBe(true);
      const test = commandText(service.healthcheck?.test);
      expect(test).toContain("'/health'");
      expect(test).toContain('process.env.HTTP_PORT');
      expect(test).toContain('r.ok');
    });

    it('waits for exactly its dependencies, each with the right condition', () => {
      expect(dependsOn(service)).toEqual(spec.dependsOn);
    });
  });

  it("serves the console from its own image on loopback, and lets every service's admin API answer its origin", () => {
    const app = compose.services.console;
    expect(app.build).toEqual({ context: '.', dockerfile: 'apps/console/Dockerfile' });
    expect(existsSync(join(ROOT, 'apps/console/Dockerfile'))).toBe(true);
    expect(app.ports).toEqual(['127.0.0.1:8090:8090']);
    expect(healthcheckOf('console')).toContain("'http://127.0.0.1:8090/health'");
    const env = environmentOf(app);
    for (const key of ['CONSOLE_OIDC_ISSUER', 'CONSOLE_APPROVAL_URL', 'CONSOLE_RECORDER_URL', 'AUDITOR_GROUPS']) {
      expect({ key, value: withDefaults(env[key] ?? '') }).toEqual({ key, value: expect.stringMatching(/\S/) });
    }
    for (const name of ['approval', 'recorder', 'policy', 'credential-vault']) {
      expect({ name, origins: withDefaults(environmentOf(compose.services[name]).CONSOLE_ORIGINS ?? '') }).toEqual({
        name,
        origins: 'http://127.0.0.1:8090',
      });
    }
  });

  it('runs kafka-init once, from its own target, after Kafka is healthy', () => {
    const init = compose.services['kafka-init'];
    expect(init.build).toEqual({ context: '.', target: 'kafka-init' });
    expect(cmdOf('kafka-init')).toEqual(['node', 'dist/infra/local/topics.js']);
    expect(withDefaults(environmentOf(init).KAFKA_BROKERS ?? '')).toMatch(/\S/);
    expect(init.restart).toBe('no');
    expect(dependsOn(init)).toEqual({ kafka: 'service_healthy' });
  });

  it('points every KAFKA_BROKERS entry at a listener the broker advertises', () => {
    const advertised = environmentOf(compose.services.kafka)
      .KAFKA_ADVERTISED_LISTENERS.split(',')
      .map((listener) => listener.replace(/^[A-Z_]+:\/\//, ''));
    for (const name of [...APP_NAMES, 'kafka-init']) {
      const brokers = environmentOf(compose.services[name]).KAFKA_BROKERS.split(',');
      expect({ name, advertised }).toEqual({ name, advertised: expect.arrayContaining(brokers) });
    }
  });

  it('makes every depends_on target startable: it exists, and has a health check or runs to completion', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [target, condition] of Object.entries(dependsOn(service))) {
        const dependency = compose.services[target];
        expect({ name, target, exists: dependency !== undefined }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy') {
          expect({ target, healthcheck: healthcheckOf(target) }).toEqual({ target, healthcheck: expect.any(String) });
        }
        if (condition === 'service_completed_successfully') {
          expect({ target, restart: dependency.restart }).toEqual({ target, restart: 'no' });
        }
      }
    }
  });

  it('mounts the connection and policy files the services are told to read, read-only', () => {
    expect(mountSourceOf('ingress-proxy', environmentOf(compose.services['ingress-proxy']).CONNECTIONS_FILE)).toBe(
      './config/connections.yaml:ro',
    );
    expect(mountSourceOf('policy', environmentOf(compose.services.policy).POLICY_FILE)).toBe('./config/policy.yaml:ro');
  });

  it('runs Kafka as a single KRaft node with topic auto-creation off', () => {
    const kafka = compose.services.kafka;
    const env = environmentOf(kafka);
    expect(kafka.image).toBe(INFRA.kafka);
    expect(env).toMatchObject({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: expect.stringMatching(/^1@kafka:\d+$/),
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      CLUSTER_ID: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
    const controller = env.KAFKA_CONTROLLER_QUORUM_VOTERS.split(':')[1];
    expect(env.KAFKA_LISTENERS).toContain(`CONTROLLER://:${controller}`);
    expect(healthcheckOf('kafka')).toContain('kafka-broker-api-versions.sh');
  });

  it('pins PostgreSQL and Redis and checks their readiness natively', () => {
    expect(compose.services.postgres.image).toBe(INFRA.postgres);
    expect(compose.services.redis.image).toBe(INFRA.redis);
    // Over TCP: during first initialisation the server listens on its socket only, and the
    // init script has not created the service databases yet.
    expect(healthcheckOf('postgres')).toMatch(/pg_isready -h 127\.0\.0\.1\b/);
    expect(healthcheckOf('redis')).toBe('CMD redis-cli ping');
  });

  it('keeps infrastructure data in declared named volumes', () => {
    const dataDirs = { kafka: '/var/lib/kafka/data', postgres: '/var/lib/postgresql/data', redis: '/data' };
    for (const [name, dir] of Object.entries(dataDirs)) {
      const mount = (compose.services[name].volumes ?? []).find((v) => typeof v === 'string' && v.endsWith(`:${dir}`));
      const volume = typeof mount === 'string' ? mount.split(':')[0] : undefined;
      expect({ name, declared: volume !== undefined && Object.hasOwn(compose.volumes ?? {}, volume) }).toEqual({
        name,
        declared: true,
      });
    }
  });

  it('gives each database owner a database the init script creates, with the password postgres is given', () => {
    for (const name of ['approval', 'recorder', 'credential-vault']) {
      const env = environmentOf(compose.services[name]);
      // The recorder connects as a writer of its own and owns its database through a second URL.
      const url = parseUrl(env.DATABASE_OWNER_URL ?? env.DATABASE_URL);
      expect({ name, host: url.host, user: url.user }).toEqual({ name, host: 'postgres:5432', user: url.database });
      expect(initScript).toContain(`create_service_database ${url.database} "$$${sharedPasswordVar(name, url)}"`);
    }
    expect(parseUrl(environmentOf(compose.services.approval).REDIS_URL).host).toBe('redis:6379');
  });

  it('connects the recorder as recorder_writer, a login role with CONNECT on its database and nothing else', () => {
    const env = environmentOf(compose.services.recorder);
    const writer = parseUrl(env.DATABASE_URL);
    const owner = parseUrl(env.DATABASE_OWNER_URL);
    expect(writer).toMatchObject({ user: 'recorder_writer', host: owner.host, database: owner.database });
    const passwordVar = sharedPasswordVar('recorder', writer);
    expect(passwordVar).not.toBe(sharedPasswordVar('recorder', owner));
    expect(initScript).toContain(`create_database_user recorder_writer ${owner.database} "$$${passwordVar}"`);
    // The helper creates a login role and grants it CONNECT only (no database ownership).
    const helper = /^create_database_user\(\) \{\n([\s\S]*?)^\}$/m.exec(initScript)?.[1] ?? '';
    const statements = sqlStatements(helper);
    expect(statements).toEqual([
      `CREATE ROLE :"name" LOGIN PASSWORD :'password'`,
      `GRANT CONNECT ON DATABASE :"database" TO :"name"`,
    ]);
    expect(helper).toMatch(/-v name="\$\$1" -v database="\$\$2" -v password="\$\$3"/);
  });

  it('gives the recorder its checkpoint signing key as a secret file, never in its environment', () => {
    const recorder = compose.services.recorder;
    const env = environmentOf(recorder);
    const mounted = Object.fromEntries((recorder.secrets ?? []).map((s) => [secretTarget(s), secretSource(s)]));
    const source = mounted[env.AUDIT_SIGNING_KEY_FILE];
    expect(source).toBeDefined();
    const secret = compose.secrets?.[source] ?? {};
    expect(secret.environment).toBeUndefined();
    // Required, with no default: compose refuses to start and says how to make one.
    expect(secret.file).toMatch(/^\$\{AUDIT_SIGNING_KEY_FILE:\?[^}]*cli\.js keygen\b[^}]*\}$/);
    const command = /\bdist\/(\S+)\.js keygen\b/.exec(secret.file ?? '')?.[1] ?? '';
    expect(existsSync(join(ROOT, `${command}.ts`))).toBe(true);
    for (const [key, value] of Object.entries(env)) {
      expect({ key, pem: value.includes('-----BEGIN') }).toEqual({ key, pem: false });
      expect({ key, inline: /SIGNING_KEY$/.test(key) }).toEqual({ key, inline: false });
    }
  });

  it("verifies the recorder API's callers with the same issuers and audience as the other APIs", () => {
    const recorder = environmentOf(compose.services.recorder);
    const vault = environmentOf(compose.services['credential-vault']);
    expect(recorder.OIDC_ISSUERS).toMatch(/^\$\{OIDC_ISSUERS:\?/);
    expect({ OIDC_ISSUERS: recorder.OIDC_ISSUERS, OIDC_AUDIENCE: recorder.OIDC_AUDIENCE }).toEqual({
      OIDC_ISSUERS: vault.OIDC_ISSUERS,
      OIDC_AUDIENCE: vault.OIDC_AUDIENCE,
    });
  });

  it('logs every service in to Kafka as its own principal, with a password that has no default', () => {
    for (const name of APP_NAMES) {
      const env = environmentOf(compose.services[name]);
      expect({ name, user: env.KAFKA_SASL_USERNAME }).toEqual({ name, user: name });
      expect({ name, password: env.KAFKA_SASL_PASSWORD }).toEqual({
        name,
        password: expect.stringMatching(/^\$\{KAFKA_[A-Z_]+_PASSWORD:\?/),
      });
    }
    expect(environmentOf(compose.services['kafka-init']).KAFKA_SASL_USERNAME).toBe('admin');
  });

  it('runs Kafka with SASL/SCRAM on every client listener and nothing allowed without an ACL', () => {
    const env = environmentOf(compose.services.kafka);
    expect(env).toMatchObject({
      KAFKA_SASL_ENABLED_MECHANISMS: 'SCRAM-SHA-512',
      KAFKA_AUTHORIZER_CLASS_NAME: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND: 'false',
      KAFKA_SUPER_USERS: 'User:admin',
    });
    for (const listener of env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP.split(','))
      expect(listener).toMatch(/:SASL_(PLAINTEXT|SSL)$/);
    const start = compose.configs?.['kafka-start']?.content ?? '';
    for (const principal of ['admin', 'ingress-proxy', 'policy', 'approval', 'recorder', 'credential-vault', 'siem']) {
      expect(start).toContain(`${principal}:`);
    }
    expect(start).toContain('--add-scram');
  });

  it('gives each signing service its Ed25519 key as a secret file, and the ingress and vault the trusted keys', () => {
    for (const name of ['ingress-proxy', 'policy', 'approval', 'credential-vault']) {
      const service = compose.services[name];
      const env = environmentOf(service);
      const mounted = Object.fromEntries((service.secrets ?? []).map((s) => [secretTarget(s), secretSource(s)]));
      expect({ name, key: mounted[env.SIGNING_KEY_FILE] }).toEqual({ name, key: `${name}-signing-key` });
      if (name === 'ingress-proxy' || name === 'credential-vault') {
        expect({ name, trust: mounted[env.TRUSTED_KEYS_FILE] }).toEqual({ name, trust: 'trusted-keys' });
      }
    }
  });

  it('scopes every role to issuers: each role setting is required, no single group name stands for a role', () => {
    const roles: Array<[string, string]> = [
      ['approval', 'APPROVAL_ADMIN_GROUPS'],
      ['approval', 'APPROVAL_APPROVER_GROUPS'],
      ['recorder', 'AUDITOR_GROUPS'],
      ['credential-vault', 'VAULT_ADMIN_GROUPS'],
    ];
    for (const [service, key] of roles) {
      expect({ key, value: environmentOf(compose.services[service])[key] }).toEqual({
        key,
        value: expect.stringMatching(new RegExp(`^\\$\\{${key}:\\?[^}]*issuer[^}]*\\}$`)),
      });
    }
    for (const name of APP_NAMES) {
      const env = environmentOf(compose.services[name]);
      for (const old of ['APPROVAL_ADMIN_GROUP', 'AUDITOR_GROUP', 'VAULT_ADMIN_GROUP']) {
        expect({ name, old, set: old in env }).toEqual({ name, old, set: false });
      }
    }
  });

  it('contains no literal secret: passwords come from ${VAR:-default} substitution', () => {
    expect(literalSecrets(compose)).toEqual([]);
  });
});

describe('the secret scanner used above', () => {
  it('finds secrets planted on purpose and accepts substitutions', () => {
    const planted: ComposeFile = {
      services: {
        a: {
          environment: {
            POSTGRES_PASSWORD: 'hunter2',
            DATABASE_URL: 'postgres://u:hunter2@db:5432/x',
            OK_PASSWORD: '${OK_PASSWORD:-local}',
            OK_URL: 'postgres://u:${OK_PASSWORD:-local}@db/x',
          },
        },
        b: { environment: ['API_TOKEN=abc123'], build: { args: { NPM_TOKEN: 'npm_abc' } } },
        c: { command: ['redis-server', '--requirepass', 'x'], environment: { REDIS_URL: 'redis://:pw@r:6379' } },
      },
    };
    expect(literalSecrets(planted).sort()).toEqual(
      [
        'a.environment.POSTGRES_PASSWORD',
        'a.environment.DATABASE_URL',
        'b.environment.API_TOKEN',
        'b.build.args.NPM_TOKEN',
        'c.command',
        'c.environment.REDIS_URL',
      ].sort(),
    );
  });
});

describe('Dockerfile', () => {
  it('has a target for every service built by compose (the console has a Dockerfile of its own)', () => {
    const targets = Object.values(compose.services).flatMap((s) =>
      typeof s.build === 'object' && s.build.dockerfile === undefined ? [s.build.target] : [],
    );
    const stages = dockerfile.stages.map((s) => s.name);
    expect(targets).toHaveLength(APP_NAMES.length + 1);
    for (const target of targets) expect(stages).toContain(target);
  });

  it('builds on node:20-bookworm-slim: npm ci, npm run build, then drops dev dependencies', () => {
    const build = stageNamed('build');
    expect(dockerfile.resolve(build.from)).toBe('node:20-bookworm-slim');
    const runs = build.instructions.filter((i) => /^RUN\s/i.test(i)).join('\n');
    expect(runs).toMatch(/npm ci\b[\s\S]*npm run build\b[\s\S]*npm prune --omit=dev\b/);
  });

  it('runs as a non-root user with a /health check, and copies only build output', () => {
    const runtime = stageNamed('runtime');
    const user =
      runtime.instructions
        .filter((i) => /^USER\s/i.test(i))
        .pop()
        ?.split(/\s+/)[1] ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(runtime.instructions.find((i) => /^HEALTHCHECK\s/i.test(i))).toContain('/health');
    const copies = runtime.instructions.filter((i) => /^COPY\s/i.test(i));
    for (const copy of copies) expect(copy).toMatch(/--from=build\b/);
  });

  it('declares no secret-looking ARG or ENV', () => {
    const declared = dockerfile.stages
      .flatMap((s) => s.instructions)
      .concat(dockerfile.globalArgs)
      .filter((i) => /^(ARG|ENV)\s/i.test(i))
      .flatMap((i) => i.replace(/^(ARG|ENV)\s+/i, '').split(/\s+/))
      .map((pair) => pair.split('=')[0]);
    expect(declared.filter((name) => SECRET_NAME.test(name))).toEqual([]);
  });

  it('keeps local state, dependencies and secrets out of the build context', () => {
    for (const entry of ['.git', '**/node_modules', 'dist', '.local', '.env', '.env.*', 'config']) {
      expect(dockerignore).toContain(entry);
    }
  });
});

// --- helpers ----------------------------------------------------------------------------

function findRepoRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'docker-compose.yml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no docker-compose.yml above ${from}`);
    dir = parent;
  }
  return dir;
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line): [string, string] => [line.split('=')[0], line.slice(line.indexOf('=') + 1)])
    : Object.entries(env).map(([key, value]): [string, string] => [key, value === null ? '' : String(value)]);
  return Object.fromEntries(entries);
}

/** The value compose would use when none of the referenced variables is set. */
function withDefaults(value: string): string {
  return value
    .replace(/\$\{[A-Za-z0-9_]+:?-([^}]*)\}/g, '$1')
    .replace(/\$\{([A-Za-z0-9_]+):?\?[^}]*\}/g, '<required $1>')
    .replace(/\$\{[A-Za-z0-9_]+\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '')
    .replace(/\$\$/g, '$');
}

function dependsOn(service: ComposeService): Record<string, Condition> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started' as const]));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v.condition ?? 'service_started']));
}

function commandText(command: string | string[] | undefined): string {
  return Array.isArray(command) ? command.join(' ') : (command ?? '');
}

function healthcheckOf(name: string): string | undefined {
  const check = compose.services[name].healthcheck;
  return check === undefined || check.disable === true ? undefined : commandText(check.test);
}

function mountSourceOf(name: string, containerPath: string): string | undefined {
  for (const volume of compose.services[name].volumes ?? []) {
    if (typeof volume !== 'string') continue;
    const [source, target, mode] = volume.split(':');
    if (target === containerPath) return mode === undefined ? source : `${source}:${mode}`;
  }
  return undefined;
}

/**
 * The variable a database URL's password is substituted from, checked to be the one the
 * postgres service (and so the init script) is given, with the same default.
 */
function sharedPasswordVar(name: string, url: { password: string }): string {
  const passwordVar = /^\$\{([A-Z0-9_]+)/.exec(url.password)?.[1] ?? '';
  const postgresEnv = environmentOf(compose.services.postgres);
  expect({ name, passwordVar, sameDefault: postgresEnv[passwordVar] }).toEqual({
    name,
    passwordVar: expect.stringMatching(/\S/),
    sameDefault: url.password,
  });
  return passwordVar;
}

/** The SQL statements of a psql heredoc, whitespace-normalised, without their semicolons. */
function sqlStatements(script: string): string[] {
  const body = /<<'SQL'\n([\s\S]*?)^SQL$/m.exec(script)?.[1] ?? '';
  return body
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter((statement) => statement !== '');
}

function secretSource(secret: string | { source: string }): string {
  return typeof secret === 'string' ? secret : secret.source;
}

/** Where compose mounts a service secret: its target, relative to /run/secrets unless absolute. */
function secretTarget(secret: string | { source: string; target?: string }): string {
  const target = typeof secret === 'string' ? secret : (secret.target ?? secret.source);
  return target.startsWith('/') ? target : `/run/secrets/${target}`;
}

function parseUrl(url: string): { user: string; password: string; host: string; database: string } {
  const match = /^[a-z]+:\/\/(?:([^:@/]*)(?::(.*))?@)?([^/@]+)(?:\/([^?]*))?/.exec(url);
  if (match === null) throw new Error(`not a URL: ${url}`);
  return { user: match[1] ?? '', password: match[2] ?? '', host: match[3], database: match[4] ?? '' };
}

const SECRET_NAME = /PASSW(OR)?D|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL/i;
const SUBSTITUTION = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$/;
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:([^@\s]*)@/i;

/** Paths (`service.field.KEY`) of values that hold a secret literally instead of substituting it. */
function literalSecrets(file: ComposeFile): string[] {
  const found: string[] = [];
  for (const [name, service] of Object.entries(file.services)) {
    const maps: [string, Record<string, string>][] = [[`${name}.environment`, environmentOf(service)]];
    if (typeof service.build === 'object' && service.build.args !== undefined) {
      maps.push([`${name}.build.args`, environmentOf({ environment: service.build.args })]);
    }
    for (const [where, map] of maps) {
      for (const [key, value] of Object.entries(map)) {
        const urlPassword = URL_PASSWORD.exec(value)?.[1];
        const literalByName = SECRET_NAME.test(key) && !SUBSTITUTION.test(value);
        const literalInUrl = urlPassword !== undefined && !SUBSTITUTION.test(urlPassword);
        if (literalByName || literalInUrl) found.push(`${where}.${key}`);
      }
    }
    if (/--requirepass\s+(?!\$\{)|password=(?!\$\{)/i.test(commandText(service.command))) found.push(`${name}.command`);
  }
  return found;
}

function parseDockerfile(text: string): {
  stages: DockerStage[];
  globalArgs: string[];
  resolve: (image: string) => string;
} {
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: DockerStage[] = [];
  const globalArgs: string[] = [];
  for (const instruction of instructions) {
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction);
    if (from !== null) stages.push({ from: from[1], name: from[2], instructions: [] });
    else if (stages.length === 0) globalArgs.push(instruction);
    else stages[stages.length - 1].instructions.push(instruction);
  }
  const defaults = Object.fromEntries(
    globalArgs.flatMap((arg) => {
      const m = /^ARG\s+([A-Za-z0-9_]+)=(\S+)$/i.exec(arg);
      return m === null ? [] : [[m[1], m[2]]];
    }),
  );
  const resolve = (image: string): string =>
    image.replace(/\$\{?([A-Za-z0-9_]+)\}?/g, (_, name: string) => defaults[name] ?? '');
  return { stages, globalArgs, resolve };
}

function stageNamed(name: string): DockerStage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (stage === undefined) throw new Error(`Dockerfile has no stage named ${name}`);
  return stage;
}

function cmdOf(stageName: string): unknown {
  const cmd = stageNamed(stageName)
    .instructions.filter((i) => /^CMD\s/i.test(i))
    .pop();
  return cmd === undefined ? undefined : JSON.parse(cmd.replace(/^CMD\s+/i, ''));
}
