/**
 * PostgreSQL data path, in one run against four targets on the same upstream database:
 *
 *   direct          client -> PostgreSQL                                   (plain)
 *   pgbouncer       client -> pgbouncer, session pooling -> PostgreSQL     (plain, the peer)
 *   pgbouncer-tls   the same pgbouncer set-up with client TLS required     (the fair peer)
 *   airlock         client -> Airlock's PostgreSQL listener -> PostgreSQL  (TLS, token as password,
 *                   policy per statement with cached decisions, masking on, audit recorded)
 *
 * First a 10-million-row `SELECT` with psql (directly, through pgbouncer and through Airlock, on a
 * fresh ingress whose peak RSS is read afterwards), then `pgbench -S` (select-only; simple and
 * extended protocol; 1 and 8 clients), targets interleaved. Prints the figures and writes
 * bench/results/pg-proxy.md.
 *
 *   node dist/bench/pg-proxy.js
 *
 * Settings (environment):
 *   DURATION=20      seconds per pgbench measurement (20, 20s or 2m)
 *   WARMUP=3         unmeasured seconds per target and protocol, before the measurements
 *   ROUNDS=2         times the whole matrix runs (targets interleaved, order rotated)
 *   SCALE=10         pgbench scale
 *   BIG_ROWS=10000000  rows of the big SELECT (0: skip it)
 *   TARGETS=direct,pgbouncer,pgbouncer-tls,airlock   a subset to run
 *   INGRESS_NODE_ARGS  node flags for the ingress, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *
 * Needs the local infrastructure (infra/local/start.sh), a build (npm run build), psql and pgbench;
 * installs the Debian package pgbouncer when it is missing. pgbouncer runs as a process of its own
 * (as the `postgres` OS user when this runs as root: pgbouncer refuses to run as root).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chownSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Topics } from '@airlock/contracts';
import {
  PgUpstreamDatabase,
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  consumerLag,
  freePort,
  infraEnv,
  repoRoot,
  runId,
  selfSignedCertificate,
  waitFor,
} from '@airlock/testing';

const TARGETS = ['direct', 'pgbouncer', 'pgbouncer-tls', 'airlock'] as const;
type TargetName = (typeof TARGETS)[number];
const LABEL: Record<TargetName, string> = {
  direct: 'direct',
  pgbouncer: 'pgbouncer',
  'pgbouncer-tls': 'pgbouncer, client TLS',
  airlock: 'Airlock (TLS, policy, masking)',
};
const MODES = ['simple', 'extended'] as const;
type Mode = (typeof MODES)[number];
const CLIENTS = [1, 8] as const;

/** Whole seconds from `20`, `20s` or `2m`: bench/run.sh passes DURATION and WARMUP in bench/http.sh's form too. */
function seconds(name: string, def: number): number {
  const m = /^(\d+)(s|m)?$/.exec((process.env[name] ?? String(def)).trim());
  if (!m) throw new Error(`${name} must be whole seconds (20, 20s or 2m), not "${process.env[name]}"`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}
const DURATION = seconds('DURATION', 20);
const WARMUP = seconds('WARMUP', 3);
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 2));
const SCALE = Number(process.env.SCALE ?? 10);
const BIG_ROWS = Number(process.env.BIG_ROWS ?? 10_000_000);
const SELECTED = (process.env.TARGETS ?? TARGETS.join(','))
  .split(',')
  .map((t) => t.trim())
  .filter((t): t is TargetName => (TARGETS as readonly string[]).includes(t));
/** The connection name agents use as `dbname` on Airlock. */
const CONNECTION = 'bench';

/** libpq settings of one target; Airlock's password is a token, signed fresh for every client run. */
type Libpq = () => Promise<Record<string, string>>;

interface Measurement {
  target: TargetName;
  mode: Mode;
  clients: number;
  tps?: number;
  latencyMs?: number;
  failed?: number;
  /** The proxy process's CPU over the run, in cores (1 = one core busy all the time). */
  proxyCores?: number;
  error?: string;
}

const log = (line: string): void => void process.stderr.write(`[bench/pg-proxy] ${line}\n`);

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Commands running now: an interrupt stops them, and main's clean-up then stops the rest. */
const running = new Set<ChildProcess>();
let interrupted: string | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = signal;
    log(`${signal}: stopping and cleaning up (again to quit at once)`);
    for (const child of running) child.kill('SIGTERM');
  });
}

/** Runs a command without blocking this process: it serves the identity provider's JWKS meanwhile. */
function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (interrupted) return reject(new Error(`interrupted (${interrupted})`));
    const started = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...env } });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (interrupted) return reject(new Error(`interrupted (${interrupted})`));
      const ms = performance.now() - started;
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 1), stdout, stderr, ms });
    });
  });
}

async function mustRun(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs?: number) {
  const r = await run(cmd, args, env, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  return r;
}

function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** pgbouncer from the Debian package, installed when missing (apt-get update only if the install fails). */
async function ensurePgbouncer(): Promise<string> {
  const found = which('pgbouncer');
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error('pgbouncer is missing: apt-get install pgbouncer');
  log('installing pgbouncer');
  const install = ['install', '-y', '-q', '--no-install-recommends', 'pgbouncer'];
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if ((await run('apt-get', install, env, 600_000)).code !== 0) {
    await mustRun('apt-get', ['update', '-q'], env, 600_000);
    await mustRun('apt-get', install, env, 600_000);
  }
  const installed = which('pgbouncer');
  if (!installed) throw new Error('pgbouncer is not on the PATH after apt-get install');
  return installed;
}

function parsePgbench(out: string): { tps: number; latencyMs: number; failed: number } | undefined {
  // pgbench 15: `tps = 1234.5 (without initial connection time)`; before 14: `(excluding connections establishing)`.
  const tps =
    /^tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/m.exec(out) ??
    /^tps = ([\d.]+)/m.exec(out);
  const latency = /^latency average = ([\d.]+) ms/m.exec(out);
  if (!tps || !latency) return undefined;
  const failed = /^number of failed transactions: (\d+)/m.exec(out);
  return { tps: Number(tps[1]), latencyMs: Number(latency[1]), failed: failed ? Number(failed[1]) : 0 };
}

async function pgbench(
  libpq: Libpq,
  mode: Mode,
  clients: number,
  seconds: number,
): Promise<Omit<Measurement, 'target'>> {
  const args = ['-n', '-S', '-M', mode, '-c', String(clients), '-T', String(seconds)];
  const r = await run('pgbench', args, await libpq(), (seconds + 60) * 1000);
  const parsed = parsePgbench(r.stdout);
  if (r.code !== 0 || !parsed) {
    const why = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-4).join(' / ');
    return { mode, clients, error: `pgbench exited with ${r.code}: ${why}` };
  }
  return { mode, clients, ...parsed };
}

function waitForPort(port: number, what: string): Promise<boolean> {
  return waitFor(
    what,
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

/**
 * pgbouncer as a process of its own, on a free port, session pooling in front of the upstream
 * database, authenticating clients with SCRAM against an auth_file that holds the role's password.
 */
class Pgbouncer {
  private child?: ChildProcess;
  private exited = false;
  private output = '';
  /** A directory of its own, outside the bench's private one: pgbouncer may run as another user. */
  private readonly dir = mkdtempSync(join(tmpdir(), 'airlock-bench-pgbouncer-'));
  port = 0;

  constructor(
    private readonly binary: string,
    private readonly upstream: PgUpstreamDatabase,
    private readonly tls?: { certFile: string; keyFile: string },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logFile(): string {
    return join(this.dir, 'pgbouncer.log');
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const up = this.upstream;
    const tlsLines = this.tls
      ? [
          'client_tls_sslmode = require',
          `client_tls_cert_file = ${this.copyIn(this.tls.certFile, 'server.crt')}`,
          `client_tls_key_file = ${this.copyIn(this.tls.keyFile, 'server.key')}`,
        ]
      : ['client_tls_sslmode = disable'];
    writeFileSync(join(this.dir, 'userlist.txt'), `"${up.user}" "${up.password}"\n`, { mode: 0o600 });
    const ini = [
      '[databases]',
      `${CONNECTION} = host=${up.host} port=${up.port} dbname=${up.database} user=${up.user}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${this.port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${join(this.dir, 'userlist.txt')}`,
      // Session pooling: one server connection per client session, as Airlock relays a session.
      'pool_mode = session',
      'max_client_conn = 100',
      'default_pool_size = 16',
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${this.logFile}`,
      ...tlsLines,
      '',
    ];
    const iniFile = join(this.dir, 'pgbouncer.ini');
    writeFileSync(iniFile, ini.join('\n'));
    // pgbouncer refuses to run as root: as root, run it as the postgres OS user, which owns its files.
    const owner = process.getuid?.() === 0 ? await osUser('postgres') : undefined;
    if (owner) {
      chownSync(this.dir, owner.uid, owner.gid);
      for (const f of ['pgbouncer.ini', 'userlist.txt', ...(this.tls ? ['server.crt', 'server.key'] : [])]) {
        chownSync(join(this.dir, f), owner.uid, owner.gid);
      }
    }
    const child = spawn(this.binary, [iniFile], { stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}) });
    this.child = child;
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.once('exit', () => (this.exited = true));
    await waitForPort(this.port, `pgbouncer on port ${this.port}`).catch((err: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${err.message}\n${this.logTail()}`);
    });
    return this;
  }

  libpq(sslmode: string): Libpq {
    const env = {
      PGHOST: '127.0.0.1',
      PGPORT: String(this.port),
      PGDATABASE: CONNECTION,
      PGUSER: this.upstream.user,
      PGPASSWORD: this.upstream.password,
      PGSSLMODE: sslmode,
    };
    return () => Promise.resolve(env);
  }

  logTail(): string {
    let logged = '';
    try {
      logged = readFileSync(this.logFile, 'utf8');
    } catch {
      /* not written yet */
    }
    return `${this.output}${logged}`.trim().split('\n').slice(-10).join('\n');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private copyIn(file: string, name: string): string {
    const to = join(this.dir, name);
    copyFileSync(file, to);
    return to;
  }
}

/** Resident set now and at its peak (VmHWM), in MB, from /proc. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: mb('VmRSS'), peakMb: mb('VmHWM') };
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function osUser(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([mustRun('id', ['-u', name]), mustRun('id', ['-g', name])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * The Airlock services the PostgreSQL path uses, as processes on free ports: policy (POLICY_FILE),
 * credential vault, recorder (migrates, then records the audit stream) and the ingress with its
 * PostgreSQL listener (TLS). The approval service is left out: no rule here asks for approval.
 */
class Airlock {
  readonly prefix = `bench-${runId()}`;
  idp!: TestIdentityProvider;
  db!: TestDatabase;
  ingress!: ServiceProcess;
  vault!: ServiceProcess;
  private readonly started: ServiceProcess[] = [];
  pgPort = 0;

  constructor(
    private readonly workDir: string,
    private readonly policyFile: string,
    private readonly tls: { certFile: string; keyFile: string },
  ) {}

  async start(): Promise<this> {
    const infra = infraEnv();
    this.idp = await TestIdentityProvider.start();
    this.db = await TestDatabase.create('airlock_bench_pg');
    const connectionsFile = join(this.workDir, 'connections.yaml');
    writeFileSync(connectionsFile, 'connections: {}\n');
    const base = { KAFKA_BROKERS: infra.KAFKA_BROKERS, KAFKA_GROUP_PREFIX: this.prefix, LOG_LEVEL: 'warn' };
    const identity = {
      OIDC_ISSUERS: JSON.stringify([{ issuer: this.idp.issuer, jwksUri: this.idp.jwksUri }]),
      OIDC_AUDIENCE: 'airlock',
    };
    this.pgPort = await freePort();
    const recorder = new ServiceProcess('recorder', await freePort(), {
      ...base,
      ...identity,
      ...this.db.recorderEnv(this.workDir),
      AUDIT_START_FROM: 'latest',
    });
    const policy = new ServiceProcess('policy', await freePort(), { ...base, POLICY_FILE: this.policyFile });
    this.vault = new ServiceProcess('credential-vault', await freePort(), {
      ...base,
      ...identity,
      DATABASE_URL: this.db.url,
      VAULT_KEK: randomBytes(32).toString('base64'),
      VAULT_KEK_ID: 'bench-1',
    });
    this.ingress = new ServiceProcess(
      'ingress-proxy',
      await freePort(),
      {
        ...base,
        ...identity,
        CONNECTIONS_FILE: connectionsFile,
        INGRESS_WORKERS: '1',
        PG_PORT: String(this.pgPort),
        PG_TLS_CERT_FILE: this.tls.certFile,
        PG_TLS_KEY_FILE: this.tls.keyFile,
      },
      process.env.INGRESS_NODE_ARGS?.split(' ').filter(Boolean),
    );
    // The recorder migrates the database the vault shares: it goes first.
    for (const group of [[recorder], [policy, this.vault], [this.ingress]]) {
      this.started.push(...group);
      await Promise.all(group.map((s) => s.start()));
    }
    return this;
  }

  /** The vault holds the upstream's address and credential; agents never see the password. */
  async addConnection(upstream: PgUpstreamDatabase): Promise<void> {
    const admin = await this.idp.sign({ sub: 'bench-admin', groups: ['airlock-admins'] });
    const call = async (path: string, method: string, body: unknown, expected: number): Promise<void> => {
      const res = await fetch(`${this.vault.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== expected) throw new Error(`vault ${method} ${path}: ${res.status} ${await res.text()}`);
    };
    await call(
      '/connections',
      'POST',
      { name: CONNECTION, protocol: 'postgres', upstream: upstream.upstreamUrl(), credentialKind: 'postgres-password' },
      201,
    );
    await call(
      `/connections/${CONNECTION}/secret`,
      'PUT',
      { username: upstream.user, password: upstream.password },
      200,
    );
  }

  libpq(): Libpq {
    return async () => ({
      PGHOST: '127.0.0.1',
      PGPORT: String(this.pgPort),
      PGDATABASE: CONNECTION,
      PGUSER: 'agent',
      PGPASSWORD: await this.idp.sign({ sub: 'bench-agent', groups: ['agents'], expiresInSeconds: 3600 }),
      PGSSLMODE: 'require',
    });
  }

  /** The ingress's process id: ServiceProcess does not expose it, so the one listening on the PostgreSQL port. */
  async ingressPid(): Promise<number> {
    const ss = await mustRun('ss', ['-Hltnp', `sport = :${this.pgPort}`]);
    const pids = [...new Set([...ss.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
    if (pids.length !== 1) throw new Error(`expected one process on port ${this.pgPort}: ${ss.stdout.trim()}`);
    return pids[0];
  }

  /** How many of the policy decisions the recorder has stored so far came from the ingress's cache. */
  async decisions(): Promise<{ cached: number; total: number; lag: number | undefined }> {
    let lag: number | undefined;
    await waitFor(
      'the recorder to catch up',
      async () => (lag = await consumerLag(`${this.prefix}-recorder`, Topics.Audit)) === 0,
      {
        timeoutMs: 120_000,
        intervalMs: 1000,
      },
    ).catch(() => undefined);
    const [r] = await this.db.query<{ cached: string; total: string }>(
      `SELECT count(*) FILTER (WHERE event->'data'->>'cached' = 'true') AS cached, count(*) AS total
         FROM audit_event WHERE type = 'operation.decided'`,
    );
    return { cached: Number(r.cached), total: Number(r.total), lag };
  }

  async stop(): Promise<void> {
    const [recorder, ...rest] = this.started;
    await Promise.allSettled(rest.map((s) => s.stop()));
    await recorder?.stop().catch(() => undefined);
    await this.idp?.stop().catch(() => undefined);
    await this.db?.drop().catch(() => undefined);
  }
}

const POLICY = `id: bench-pg
rules:
  - id: bench-agents
    description: agents may use the bench database; secrets in results are masked
    effect: allow
    connections: [${CONNECTION}]
    principals:
      - groups: [agents]
    masking: [secrets]
  - id: pg-risky
    description: no unbounded writes, server files or programs, dangerous functions or role changes
    effect: deny
    connections: ['*']
    sql:
      risks: [write-without-where, dangerous-function, server-program, server-file, role-change]
`;

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '–' : (a / b).toFixed(2);
const mean = (xs: number[]): number | undefined => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : undefined);

interface Cell {
  tps?: number;
  latencyMs?: number;
  proxyCores?: number;
  min?: number;
  max?: number;
  errors: string[];
  failed: number;
}

function summarise(ms: Measurement[], target: TargetName, mode: Mode, clients: number): Cell {
  const mine = ms.filter((m) => m.target === target && m.mode === mode && m.clients === clients);
  const ok = mine.filter((m) => m.tps !== undefined);
  const tps = ok.map((m) => m.tps!);
  return {
    tps: mean(tps),
    latencyMs: mean(ok.map((m) => m.latencyMs!)),
    proxyCores: mean(ok.filter((m) => m.proxyCores !== undefined).map((m) => m.proxyCores!)),
    min: tps.length ? Math.min(...tps) : undefined,
    max: tps.length ? Math.max(...tps) : undefined,
    errors: mine.filter((m) => m.error).map((m) => m.error!),
    failed: ok.reduce((s, m) => s + (m.failed ?? 0), 0),
  };
}

interface BigRun {
  target: TargetName;
  seconds?: number;
  rows?: number;
  error?: string;
}

async function bigSelect(target: TargetName, libpq: Libpq): Promise<BigRun> {
  // psql holds the whole result client side (its memory, not the proxy's); \echo reports the row count.
  const args = ['-X', '-A', '-t', '-o', '/dev/null', '-c', 'SELECT * FROM big', '-c', '\\echo :ROW_COUNT'];
  const r = await run('psql', args, await libpq(), 60 * 60_000);
  if (r.code !== 0) return { target, error: `psql exited with ${r.code}: ${r.stderr.trim().slice(-500)}` };
  return { target, seconds: r.ms / 1000, rows: Number(r.stdout.trim()) };
}

interface IngressMemory {
  pid: number;
  atStart: { rssMb: number; peakMb: number };
  /** After the policy and masking checks (sessions opened, the SQL parser in use), before the big SELECT. */
  beforeBig?: { rssMb: number; peakMb: number };
  /** Peak so far = start-up and the big SELECT, which runs before any pgbench load. */
  afterBig?: { rssMb: number; peakMb: number };
  afterPgbench?: { rssMb: number; peakMb: number };
}

/** Airlock's policy and masking must be in effect, or its figures would not mean what they claim. */
async function checkAirlock(through: Libpq, upstream: PgUpstreamDatabase, planted: string): Promise<string[]> {
  const masked = await mustRun('psql', ['-X', '-A', '-t', '-c', 'SELECT note FROM probe'], await through());
  const isMasked = !masked.stdout.includes(planted) && masked.stdout.includes('[MASKED');
  const refused = await run('psql', ['-X', '-c', 'DELETE FROM probe'], await through());
  const [left] = await upstream.query<{ n: string }>('SELECT count(*) AS n FROM probe');
  const isRefused = refused.code !== 0 && left.n === '1';
  const checks = [
    `masking: a planted GitHub token comes back as \`${masked.stdout.trim()}\`: ${isMasked ? 'masked' : 'NOT MASKED'}`,
    `policy: \`DELETE FROM probe\` (write without WHERE) ${isRefused ? 'refused' : 'NOT REFUSED'}: ` +
      (refused.stderr || refused.stdout).trim().split('\n')[0],
  ];
  if (!isMasked || !isRefused) throw new Error(`Airlock's policy or masking is not in effect: ${checks.join('; ')}`);
  return checks;
}

async function main(): Promise<void> {
  if (SELECTED.length === 0) throw new Error(`TARGETS names none of ${TARGETS.join(', ')}`);
  const bouncerBinary = await ensurePgbouncer();
  const workDir = mkdtempSync(join(tmpdir(), 'airlock-bench-pg-'));
  const tls = selfSignedCertificate(workDir);
  const policyFile = join(workDir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  let upstream: PgUpstreamDatabase | undefined;
  const bouncers: Pgbouncer[] = [];
  let airlock: Airlock | undefined;
  let airlockError: string | undefined;
  try {
    const up = (upstream = await PgUpstreamDatabase.create('airlock_bench_pg_up'));
    const direct: Libpq = () =>
      Promise.resolve({
        PGHOST: up.host,
        PGPORT: String(up.port),
        PGDATABASE: up.database,
        PGUSER: up.user,
        PGPASSWORD: up.password,
        PGSSLMODE: 'disable',
      });
    log(`pgbench -i -s ${SCALE} on ${up.database}`);
    await mustRun('pgbench', ['-i', '-q', '-s', String(SCALE)], await direct(), 30 * 60_000);
    // A planted secret for the masking check, a row for the policy check: pgbench -S reads neither.
    const planted = `ghp_${randomBytes(18).toString('hex')}`;
    await up.query(`CREATE TABLE probe (note text); INSERT INTO probe VALUES ('deploy key ${planted}')`);
    if (BIG_ROWS > 0) {
      log(`creating big (${fmt(BIG_ROWS)} rows)`);
      const sql = `CREATE TABLE big AS SELECT g AS id, md5(g::text) AS h, 'row ' || g AS note FROM generate_series(1, ${BIG_ROWS}) g`;
      // VACUUM sets the hint bits now, so that the first target to read the table does not pay for it.
      await mustRun('psql', ['-X', '-q', '-c', sql, '-c', 'VACUUM ANALYZE big'], await direct(), 30 * 60_000);
    }
    const [serverVersion] = await up.query<{ server_version: string }>('SHOW server_version');
    const versions = {
      postgres: serverVersion.server_version,
      pgbouncer: (await mustRun(bouncerBinary, ['--version'])).stdout.split('\n')[0].trim(),
      pgbench: (await mustRun('pgbench', ['--version'])).stdout.trim(),
    };

    const libpq = new Map<TargetName, Libpq>([['direct', direct]]);
    /** The proxy process of a target, whose CPU is sampled over each run. */
    const proxyPid = new Map<TargetName, number>();
    for (const [name, withTls] of [
      ['pgbouncer', false],
      ['pgbouncer-tls', true],
    ] as const) {
      if (!SELECTED.includes(name)) continue;
      const b = new Pgbouncer(bouncerBinary, up, withTls ? tls : undefined);
      bouncers.push(b);
      await b.start();
      libpq.set(name, b.libpq(withTls ? 'require' : 'disable'));
      if (b.pid) proxyPid.set(name, b.pid);
    }

    let checks: string[] = [];
    let memory: IngressMemory | undefined;
    if (SELECTED.includes('airlock')) {
      try {
        log('starting Airlock (recorder, policy, vault, ingress)');
        airlock = new Airlock(workDir, policyFile, tls);
        await airlock.start();
        const pid = await airlock.ingressPid();
        memory = { pid, atStart: memoryOf(pid) };
        await airlock.addConnection(up);
        checks = await checkAirlock(airlock.libpq(), up, planted);
        libpq.set('airlock', airlock.libpq());
        proxyPid.set('airlock', pid);
      } catch (err) {
        airlockError = err instanceof Error ? err.message : String(err);
        log(`Airlock failed: ${airlockError}`);
        if (airlock?.ingress) log(`ingress output:\n${airlock.ingress.logs.slice(-3000)}`);
      }
    }
    const targets = SELECTED.filter((t) => libpq.has(t));

    // The big SELECT first, on a fresh ingress: its peak RSS then is start-up plus this query alone.
    // Twice, the second time in reverse order, so that neither the first nor the last place favours a target.
    const big: BigRun[] = [];
    if (BIG_ROWS > 0) {
      const order = targets.filter((x) => x !== 'pgbouncer-tls');
      for (const t of [...order, ...[...order].reverse()]) {
        log(`big SELECT: ${t}`);
        if (t === 'airlock' && !memory!.beforeBig && existsSync(`/proc/${memory!.pid}`)) {
          memory!.beforeBig = memoryOf(memory!.pid);
        }
        const b = await bigSelect(t, libpq.get(t)!);
        big.push(b);
        if (t === 'airlock' && existsSync(`/proc/${memory!.pid}`)) memory!.afterBig = memoryOf(memory!.pid);
        log(`big SELECT ${t}: ${b.error ?? `${fmt(b.seconds, 1)} s, ${fmt(b.rows)} rows`}`);
      }
    }

    for (const t of targets) {
      for (const mode of MODES) {
        log(`warm-up: ${t}, ${mode}, ${WARMUP} s`);
        const w = await pgbench(libpq.get(t)!, mode, 8, WARMUP);
        if (w.error) log(`warm-up failed: ${w.error}`);
      }
    }

    // Targets interleaved within every cell, their order rotated from cell to cell and round to round,
    // so that drift (caches, the other processes on the two cores) falls on all of them alike.
    const measurements: Measurement[] = [];
    const cells = MODES.flatMap((mode) => CLIENTS.map((clients) => ({ mode, clients })));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, { mode, clients }] of cells.entries()) {
        const shift = (i + round) % targets.length;
        for (const t of [...targets.slice(shift), ...targets.slice(0, shift)]) {
          const pid = proxyPid.get(t);
          const cpu0 = pid ? cpuSecondsOf(pid) : 0;
          const started = performance.now();
          const m: Measurement = { target: t, ...(await pgbench(libpq.get(t)!, mode, clients, DURATION)) };
          if (pid) m.proxyCores = (cpuSecondsOf(pid) - cpu0) / ((performance.now() - started) / 1000);
          measurements.push(m);
          log(
            `round ${round + 1}/${ROUNDS} ${mode} ${clients}c ${t}: ${m.error ?? `${fmt(m.tps)} tps, ${fmt(m.latencyMs, 3)} ms`}`,
          );
        }
      }
    }
    const decisions = libpq.has('airlock') ? await airlock!.decisions() : undefined;
    if (memory && existsSync(`/proc/${memory.pid}`)) memory.afterPgbench = memoryOf(memory.pid);

    const lines = report({ versions, checks, measurements, targets, decisions, big, memory, airlockError });
    process.stdout.write(`${lines.join('\n')}\n`);
    const out = join(repoRoot(), 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'pg-proxy.md'), `${lines.join('\n')}\n`);
    if (SELECTED.includes('airlock') && airlockError) process.exitCode = 1;
  } finally {
    await Promise.allSettled(bouncers.map((b) => b.stop()));
    await airlock?.stop();
    await upstream?.drop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

function report(r: {
  versions: { postgres: string; pgbouncer: string; pgbench: string };
  checks: string[];
  measurements: Measurement[];
  targets: TargetName[];
  decisions?: { cached: number; total: number; lag: number | undefined };
  big: BigRun[];
  memory?: IngressMemory;
  airlockError?: string;
}): string[] {
  const lines = [
    '# PostgreSQL proxy: pgbench -S direct, through pgbouncer and through Airlock',
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); PostgreSQL, the proxies, pgbench, Kafka and the Airlock services share them.`,
    `PostgreSQL ${r.versions.postgres}; ${r.versions.pgbouncer}; ${r.versions.pgbench}.`,
    `pgbench: scale ${SCALE}, select-only (\`-S\`), \`-n\`, ${DURATION} s per measurement, one pgbench thread, ` +
      `${ROUNDS} round(s) with the targets interleaved (order rotated per cell), a ${WARMUP} s warm-up per target and protocol. ` +
      'TPS excludes the initial connection time; TPS and latency are the mean of the rounds, the range their lowest and highest TPS. ' +
      "Proxy CPU: the proxy process's user + system time over the run, in cores.",
    'pgbouncer: its own process, `pool_mode = session` (one server connection per client session, as Airlock relays ' +
      'a session to one upstream connection), `default_pool_size = 16`, SCRAM client auth; once without TLS, once with ' +
      '`client_tls_sslmode = require`. Direct is plain TCP on 127.0.0.1.',
    'Airlock: one ingress process (`INGRESS_WORKERS=1`), TLS on its PostgreSQL port (same self-signed certificate as ' +
      "pgbouncer-tls), the agent's JWT as password, the upstream credential leased from the vault, every statement " +
      'classified and decided by policy (decision cache on), results masked with `secrets`, audit events to Kafka and ' +
      'the recorder (running, on the same cores); services at LOG_LEVEL=warn. Policy:',
    '',
    '```yaml',
    ...POLICY.trimEnd().split('\n'),
    '```',
    '',
    ...r.checks.map((c) => `- check, ${c}`),
    ...(r.decisions
      ? [
          `- policy decisions in the audit store after the pgbench runs: ${fmt(r.decisions.total)}, of which ` +
            `${fmt(r.decisions.cached)} (${((100 * r.decisions.cached) / Math.max(1, r.decisions.total)).toFixed(2)} %) ` +
            `from the ingress's decision cache (recorder lag then: ${r.decisions.lag ?? 'unknown'} events)`,
        ]
      : []),
    ...(r.airlockError ? [`- **Airlock not measured**: ${r.airlockError.split('\n')[0]}`] : []),
    '',
    '## pgbench -S',
    '',
    '| protocol | clients | target | TPS | (range) | latency avg (ms) | proxy CPU | vs direct | vs pgbouncer | vs pgbouncer TLS |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  type Verdict = 'met' | 'missed' | 'not measured';
  const goals: { row: string; vsPlain: Verdict; vsTls: Verdict }[] = [];
  for (const mode of MODES) {
    for (const clients of CLIENTS) {
      const cell = (t: TargetName) => summarise(r.measurements, t, mode, clients);
      const d = cell('direct');
      const b = cell('pgbouncer');
      const bt = cell('pgbouncer-tls');
      for (const t of r.targets) {
        const c = cell(t);
        const range = ROUNDS > 1 && c.min !== undefined ? `${fmt(c.min)}–${fmt(c.max)}` : '';
        const notes = [...new Set(c.errors)].map((e) => ` (failed: ${e})`).join('');
        const failed = c.failed ? ` (${c.failed} failed transactions)` : '';
        const tps = t === 'airlock' ? `**${fmt(c.tps)}**` : fmt(c.tps);
        const peers = t === 'airlock' ? `${ratio(c.tps, b.tps)} | ${ratio(c.tps, bt.tps)}` : ' | ';
        lines.push(
          `| ${mode} | ${clients} | ${LABEL[t]} | ${tps}${failed}${notes} | ${range} | ${fmt(c.latencyMs, 3)} | ` +
            `${fmt(c.proxyCores, 2)} | ${ratio(c.tps, d.tps)} | ${peers} |`,
        );
      }
      if (r.targets.includes('airlock')) {
        const a = cell('airlock');
        const verdict = (peer: Cell): Verdict =>
          a.tps === undefined || peer.tps === undefined ? 'not measured' : a.tps >= peer.tps ? 'met' : 'missed';
        const [vsPlain, vsTls] = [verdict(b), verdict(bt)];
        goals.push({
          row: `| ${mode} | ${clients} | ${ratio(a.tps, b.tps)} | ${vsPlain} | ${ratio(a.tps, bt.tps)} | ${vsTls} |`,
          vsPlain,
          vsTls,
        });
      }
    }
  }
  lines.push(
    '',
    'Reference from the issue, on this kind of machine: pgbouncer reached 0.80–0.87 of direct TPS at 1 client and 0.52 at 8.',
    '',
  );
  if (goals.length) {
    const overall = (v: Verdict[]): Verdict =>
      v.every((x) => x === 'met') ? 'met' : v.includes('missed') ? 'missed' : 'not measured';
    lines.push(
      "Goal: Airlock's TPS ≥ pgbouncer's at 1 and 8 clients, with policy and masking on and decisions cached.",
      '',
      '| protocol | clients | Airlock / pgbouncer | goal | Airlock / pgbouncer TLS | same goal against pgbouncer with client TLS |',
      '| --- | ---: | ---: | --- | ---: | --- |',
      ...goals.map((g) => g.row),
      '',
      `Goal against pgbouncer: **${overall(goals.map((g) => g.vsPlain))}**; against pgbouncer with client TLS: ` +
        `**${overall(goals.map((g) => g.vsTls))}**.`,
      '',
    );
  } else if (r.airlockError) {
    lines.push("Goal: Airlock's TPS ≥ pgbouncer's at 1 and 8 clients: **not measured** (Airlock did not run).", '');
  }
  if (r.big.length) {
    const bigOf = (t: TargetName) => r.big.filter((b) => b.target === t);
    const wall = (t: TargetName) => mean(bigOf(t).flatMap((b) => (b.seconds === undefined ? [] : [b.seconds])));
    const shown = [...new Set(r.big.map((b) => b.target))];
    lines.push(
      `## A ${fmt(BIG_ROWS)}-row SELECT`,
      '',
      '`psql -X -A -t -o /dev/null -c "SELECT * FROM big"` (id int, md5 text, note text; psql holds the result client ' +
        'side, which costs psql memory, the same for every target); wall time of the psql process, the mean of two ' +
        'runs (the second round in reverse order).',
      '',
      '| target | wall time (s) | runs (s) | vs direct | rows |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...shown.map((t) => {
        const runs = bigOf(t);
        const errors = runs.filter((b) => b.error).map((b) => ` (failed: ${b.error})`);
        const each = runs.map((b) => (b.seconds === undefined ? 'failed' : fmt(b.seconds, 2))).join(', ');
        const rows = [...new Set(runs.map((b) => fmt(b.rows)))].join(', ');
        return `| ${LABEL[t]} | ${fmt(wall(t), 2)}${errors.join('')} | ${each} | ${ratio(wall(t), wall('direct'))} | ${rows} |`;
      }),
      '',
    );
    const airlockFailed = bigOf('airlock').some((b) => b.error);
    const m = r.memory;
    if (m?.afterBig) {
      lines.push(
        `Ingress process (pid ${m.pid}), resident set: ${fmt(m.atStart.rssMb)} MB once started; ` +
          (m.beforeBig
            ? `${fmt(m.beforeBig.rssMb)} MB after the policy and masking checks (sessions served, the SQL parser's ` +
              `WebAssembly memory in use), right before the big SELECT; `
            : '') +
          `the SELECTs ran before any pgbench load: ${fmt(m.afterBig.rssMb)} MB after them, ` +
          `**peak (VmHWM) ${fmt(m.afterBig.peakMb)} MB**.`,
        '',
        ...(m.beforeBig
          ? [
              `What streaming 10,000,000 rows added on top of the warmed-up process: ` +
                `**${fmt(m.afterBig.peakMb - m.beforeBig.rssMb)} MB** (peak minus the resident set right before).`,
              '',
            ]
          : []),
        `Goal: ingress peak RSS under 200 MB: **${
          airlockFailed ? 'not measured (the query failed)' : m.afterBig.peakMb < 200 ? 'met' : 'missed'
        }**.`,
        '',
      );
    }
  }
  const after = r.memory?.afterPgbench;
  if (after) {
    lines.push(
      `Ingress resident set after all the pgbench runs: ${fmt(after.rssMb)} MB (peak over its life ${fmt(after.peakMb)} MB).`,
      '',
    );
  }
  return lines;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
