import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import {
  AuditEventSchema,
  Topics,
  replyTopicOf,
  uuidv7,
  type AuditEvent,
  type VaultLeaseReply,
} from '@airlock/contracts';
import { MessagingError, RequestReplyClient, createKafka } from '@airlock/messaging';
import { generateSealingKeyPair, leaseAssociatedData, unseal, type SealingKeyPair } from '@airlock/sealing';
import {
  ServiceProcess,
  TestDatabase,
  TestIdentityProvider,
  freePort,
  infraEnv,
  repoRoot,
  runId,
  waitFor,
  kafkaSasl,
  serviceKafkaEnv,
  serviceSigningEnv,
  testSigner,
  testTrustedKeys,
} from '@airlock/testing';

/**
 * The credential vault on the real Kafka and PostgreSQL: its admin API, envelope encryption at
 * rest, leases sealed to one ingress instance, rotation, the start-up key check and KEK
 * rotation. Every "the secret is not there" check first proves that its scanner finds the
 * secret where it is put on purpose.
 */

/* ---------- scanners ---------- */

/** The forms a leaked secret could take: as is, hex, and base64 at each of the three byte alignments. */
function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (let offset = 0; offset < 3; offset++) {
    const b64 = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const length = offset + bytes.length;
    forms.push(b64.slice(offset === 0 ? 0 : 4, Math.floor(length / 3) * 4));
  }
  return forms;
}

/** Which forms of `secret` occur in `haystack` (text, or bytes read as UTF-8 and as Latin-1). */
function findSecret(haystack: string | Buffer, secret: string): string[] {
  const texts = typeof haystack === 'string' ? [haystack] : [haystack.toString('utf8'), haystack.toString('latin1')];
  return secretForms(secret).filter((form) => texts.some((t) => t.includes(form)));
}

/** Every column of every row of `tables`, as text and as hex, searched for `secret`. */
async function scanTables(db: TestDatabase, tables: string[], secret: string): Promise<string[]> {
  const hits: string[] = [];
  for (const table of tables) {
    const columns = await db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    for (const { column_name: column, data_type: type } of columns) {
      const col = `"${column}"`;
      const [text, hex] =
        type === 'bytea'
          ? [`encode(${col}, 'escape')`, `encode(${col}, 'hex')`]
          : [`${col}::text`, `encode(convert_to(${col}::text, 'UTF8'), 'hex')`];
      const rows = await db.query<{ text: string | null; hex: string | null }>(
        `SELECT ${text} AS text, ${hex} AS hex FROM "${table}"`,
      );
      for (const r of rows) {
        for (const form of findSecret(`${r.text ?? ''}\n${r.hex ?? ''}`, secret))
          hits.push(`${table}.${column}: ${form}`);
      }
    }
    const rows = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
    for (const r of rows) for (const form of findSecret(r.row, secret)) hits.push(`${table} (row): ${form}`);
  }
  return hits;
}

/* ---------- Kafka: every message of some topics from a point in time on ---------- */

interface TappedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Buffer;
}

/**
 * Reads `topics` from the offsets they had when opened: a consumer group of its own, sought to
 * those offsets, so nothing produced after `open` is missed and nothing earlier is read.
 */
class KafkaTap {
  readonly messages: TappedMessage[] = [];
  private readonly next = new Map<string, bigint>();

  private constructor(
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly topics: string[],
  ) {}

  static async open(kafka: Kafka, topics: string[], groupId: string): Promise<KafkaTap> {
    const admin = kafka.admin();
    await admin.connect();
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 });
    const tap = new KafkaTap(consumer, admin, topics);
    const starts: { topic: string; partition: number; offset: string }[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        starts.push({ topic, partition: p.partition, offset: p.high });
        tap.next.set(`${topic}/${p.partition}`, BigInt(p.high));
      }
    }
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const slot = `${topic}/${partition}`;
        const offset = BigInt(message.offset);
        if (offset < (tap.next.get(slot) ?? 0n)) return;
        tap.next.set(slot, offset + 1n);
        const headers = Buffer.from(
          Object.entries(message.headers ?? {})
            .map(([k, v]) => `${k}=${String(v)}`)
            .join('\n'),
        );
        tap.messages.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers,
        });
      },
    });
    for (const s of starts) consumer.seek(s);
    return tap;
  }

  /** Waits until every message on the tapped topics up to now has been read. */
  async caughtUp(): Promise<void> {
    const ends: [string, bigint][] = [];
    for (const topic of this.topics) {
      for (const p of await this.admin.fetchTopicOffsets(topic)) ends.push([`${topic}/${p.partition}`, BigInt(p.high)]);
    }
    await waitFor('the Kafka tap to catch up', () => ends.every(([slot, end]) => (this.next.get(slot) ?? 0n) >= end), {
      timeoutMs: 30000,
    });
  }

  values(topic: string): string[] {
    return this.messages.filter((m) => m.topic === topic).map((m) => m.value?.toString() ?? '');
  }

  audit(): AuditEvent[] {
    return this.values(Topics.Audit).flatMap((v) => {
      const parsed = AuditEventSchema.safeParse(JSON.parse(v));
      return parsed.success ? [parsed.data] : [];
    });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }
}

/* ---------- processes ---------- */

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the vault's compiled entry points to its end. */
function runVaultCommand(
  script: 'main.js' | 'rewrap.js',
  env: Record<string, string>,
  timeoutMs = 60000,
): Promise<Exit> {
  const entry = join(repoRoot(), 'dist', 'services', 'credential-vault', 'src', script);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry], {
      cwd: repoRoot(),
      env: {
        PATH: process.env.PATH ?? '',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
        LOG_LEVEL: 'warn',
        ...serviceKafkaEnv('credential-vault'),
        ...serviceSigningEnv('credential-vault'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const quietKafkaLogs = { error() {}, warn() {}, info() {}, debug() {} };

describe('credential vault, end to end', () => {
  const run = runId();
  const groupPrefix = `test-vault-${run}`;
  const workDir = mkdtempSync(join(tmpdir(), 'airlock-vault-e2e-'));
  const connection = `billing-${run}`;
  const bare = `bare-${run}`;
  const adminSubject = `admin-${run}`;
  const agentSubject = `agent-${run}`;
  // Unique per run, so finding one can only mean this run leaked it.
  const canary1 = `canary-v1-${randomBytes(12).toString('hex')}`;
  const canary2 = `canary-v2-${randomBytes(12).toString('hex')}`;
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');

  let idp: TestIdentityProvider;
  let db: TestDatabase;
  let kafka: Kafka;
  let tap: KafkaTap;
  let leases: RequestReplyClient;
  let vault: ServiceProcess;
  let vaultAfterRotation: ServiceProcess | undefined;
  const responses: string[] = [];

  function keyFile(name: string, content: { current: string; keys: Record<string, string> }, mode = 0o600): string {
    const path = join(workDir, name);
    writeFileSync(path, JSON.stringify(content));
    chmodSync(path, mode);
    return path;
  }

  function vaultEnv(keys: Record<string, string>): Record<string, string> {
    return {
      KAFKA_BROKERS: infraEnv().KAFKA_BROKERS,
      KAFKA_GROUP_PREFIX: groupPrefix,
      DATABASE_URL: db.url,
      OIDC_ISSUERS: JSON.stringify([{ issuer: idp.issuer, jwksUri: idp.jwksUri }]),
      OIDC_AUDIENCE: 'airlock',
      VAULT_LEASE_TTL_SECONDS: '120',
      // Debug logs widen the net of the log scan below.
      LOG_LEVEL: 'debug',
      ...keys,
    };
  }

  const adminToken = (): Promise<string> => idp.sign({ sub: adminSubject, groups: ['airlock-admins'] });
  const agentToken = (): Promise<string> => idp.sign({ sub: agentSubject, groups: ['agents'] });

  /** One admin API call; every response text is kept for the final scan. */
  async function api(
    method: string,
    path: string,
    { token, body }: { token?: string | null; body?: unknown } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    const headers: Record<string, string> = {};
    const bearer = token === undefined ? await adminToken() : token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${(vaultAfterRotation ?? vault).url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    responses.push(text);
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not JSON: the assertions on body will say so */
    }
    return { status: res.status, body: parsed, text };
  }

  /**
   * A lease over Kafka, as an ingress instance asks for it. Another test system's vault on the
   * same broker may answer first with "unknown connection" (it has another database): ask again
   * then, since this run's vault never answers that for a connection it holds.
   */
  async function lease(name: string, keys: SealingKeyPair, retries = 5): Promise<VaultLeaseReply> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await leases.request(
          Topics.VaultLease,
          name,
          { requestId: uuidv7(), connection: name, ingressInstance: `e2e-ingress-${run}`, publicKey: keys.publicKey },
          10000,
        );
      } catch (err) {
        const foreign = err instanceof MessagingError && err.message.includes(`unknown connection "${name}"`);
        if (!foreign || attempt >= retries) throw err;
      }
    }
  }

  function openLease(reply: VaultLeaseReply, keys: SealingKeyPair): Record<string, unknown> {
    return JSON.parse(unseal(keys.privateKey, reply.sealed, leaseAssociatedData(reply)).toString('utf8'));
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    db = await TestDatabase.create('airlock_vault');
    kafka = createKafka(
      { brokers: infraEnv().KAFKA_BROKERS.split(','), sasl: kafkaSasl(), clientId: 'airlock-vault-e2e' },
      quietKafkaLogs,
    );
    tap = await KafkaTap.open(
      new Kafka({
        brokers: infraEnv().KAFKA_BROKERS.split(','),
        sasl: kafkaSasl(),
        clientId: 'airlock-vault-e2e-tap',
        logLevel: logLevel.NOTHING,
      }),
      [Topics.Audit, replyTopicOf(Topics.VaultLease), Topics.VaultRotated],
      `${groupPrefix}-tap`,
    );
    vault = new ServiceProcess(
      'credential-vault',
      await freePort(),
      vaultEnv({ VAULT_KEK_FILE: keyFile('kek-1.json', { current: 'k1', keys: { k1 } }) }),
    );
    await vault.start();
    // Asks as an ingress would: requests signed with an ingress key, replies checked against the vault's.
    leases = new RequestReplyClient(kafka, {
      groupId: `${groupPrefix}-leases`,
      topics: [Topics.VaultLease],
      security: { signer: testSigner('ingress-proxy'), trust: testTrustedKeys() },
    });
    await leases.connect();
  }, 180000);

  afterAll(async () => {
    await Promise.allSettled([leases?.close(), tap?.close()]);
    await Promise.allSettled([vault?.stop(), vaultAfterRotation?.stop()]);
    await Promise.allSettled([idp?.stop(), db?.drop()]);
    rmSync(workDir, { recursive: true, force: true });
  }, 60000);

  it('asks for a token (401) and for the admin group (403), and audits both refusals', async () => {
    const none = await api('GET', '/connections', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: 'unauthorized', message: 'A bearer token is required.' });
    const forged = await api('GET', '/connections', { token: await idp.badSignature({ sub: adminSubject }) });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('unauthorized');

    const agent = await agentToken();
    const listed = await api('GET', '/connections', { token: agent });
    expect(listed.status).toBe(403);
    expect(listed.body).toEqual({ error: 'forbidden', message: expect.stringMatching(/administrator group/) });
    const created = await api('POST', '/connections', {
      token: agent,
      body: { name: `sneaky-${run}`, protocol: 'http', upstream: 'https://x.internal', credentialKind: 'bearer' },
    });
    expect(created.status).toBe(403);
    expect((await api('GET', `/connections/sneaky-${run}`)).status).toBe(404);

    await tap.caughtUp();
    const refusals = tap.audit().filter((e) => e.type === 'auth.failed' && e.source === 'credential-vault');
    expect(refusals.filter((e) => e.actor?.subject === agentSubject).length).toBeGreaterThanOrEqual(2);
  });

  it('creates connections, with metadata only, and refuses duplicates and bad input by field', async () => {
    const created = await api('POST', '/connections', {
      body: {
        name: connection,
        protocol: 'http',
        upstream: 'https://billing.internal/api',
        credentialKind: 'bearer',
        agentCredentialHeaders: ['Authorization', 'x-api-key'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: connection,
      protocol: 'http',
      upstream: 'https://billing.internal/api',
      credentialKind: 'bearer',
      agentCredentialHeaders: ['authorization', 'x-api-key'],
      secretVersion: null,
      secretSetAt: null,
      secretSetBy: null,
      createdAt: expect.any(String),
      createdBy: { issuer: idp.issuer, subject: adminSubject },
    });
    const plain = await api('POST', '/connections', {
      body: { name: bare, protocol: 'http', upstream: 'http://127.0.0.1:9', credentialKind: 'bearer' },
    });
    expect(plain.status).toBe(201);
    expect(plain.body.agentCredentialHeaders).toEqual(['authorization']);

    const again = await api('POST', '/connections', {
      body: { name: connection, protocol: 'http', upstream: 'https://elsewhere.internal', credentialKind: 'bearer' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: 'conflict', message: `connection "${connection}" already exists` });

    const userinfo = await api('POST', '/connections', {
      body: { name: `x-${run}`, protocol: 'http', upstream: 'https://svc:pw@x.internal', credentialKind: 'bearer' },
    });
    expect(userinfo.status).toBe(400);
    expect(userinfo.body).toEqual({
      error: 'bad_request',
      message: expect.stringMatching(/^upstream: must not contain credentials/),
    });
    const badName = await api('POST', '/connections', {
      body: { name: 'Not Valid', protocol: 'http', upstream: 'https://x.internal', credentialKind: 'bearer' },
    });
    expect(badName.status).toBe(400);
    expect(badName.body.message).toMatch(/^name: /);
    const notJson = await fetch(`${vault.url}/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'bad_request', message: expect.any(String) });

    expect((await api('GET', `/connections/nowhere-${run}`)).body).toEqual({
      error: 'not_found',
      message: `unknown connection "nowhere-${run}"`,
    });
    const one = await api('GET', `/connections/${connection}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);
    const all = await api('GET', '/connections');
    expect((all.body.connections as { name: string }[]).map((c) => c.name).sort()).toEqual([bare, connection].sort());
  });

  it('stores a secret write-only, and only as ciphertext at rest', async () => {
    const set = await api('PUT', `/connections/${connection}/secret`, { body: { token: canary1 } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ connection, secretVersion: 1 });
    const wrongFields = await api('PUT', `/connections/${connection}/secret`, {
      body: { username: 'u', password: canary1 },
    });
    expect(wrongFields.status).toBe(400);
    expect(wrongFields.body.message).toMatch(/token/);
    expect((await api('PUT', `/connections/nowhere-${run}/secret`, { body: { token: canary1 } })).status).toBe(404);
    expect((await api('GET', `/connections/${connection}`)).body).toMatchObject({
      secretVersion: 1,
      secretSetAt: expect.any(String),
    });

    // The scanner finds the canary when it is stored on purpose, in every column type it reads...
    await db.query('CREATE TABLE scan_control (note text, blob bytea, meta jsonb, tags text[])');
    await db.query('INSERT INTO scan_control VALUES ($1, $2, $3, $4)', [
      `x ${canary1} y`,
      Buffer.from(`\x00${canary1}\x01`),
      JSON.stringify({ deep: { token: canary1 } }),
      [canary1],
    ]);
    const control = await scanTables(db, ['scan_control'], canary1);
    await db.query('DROP TABLE scan_control');
    for (const column of ['note', 'blob', 'meta', 'tags']) {
      expect(control.some((hit) => hit.startsWith(`scan_control.${column}: `))).toBe(true);
    }
    // ... so finding nothing in the vault's tables means it is not there.
    const tables = (
      await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'vault\\_%'`,
      )
    ).map((t) => t.table_name);
    expect(tables.sort()).toEqual(['vault_connection', 'vault_key_check', 'vault_migrations', 'vault_secret']);
    expect(await scanTables(db, tables, canary1)).toEqual([]);
    const [row] = await db.query<{ key_id: string; n: string }>(
      'SELECT key_id, count(*) AS n FROM vault_secret GROUP BY key_id',
    );
    expect(row).toEqual({ key_id: 'k1', n: '1' });
  });

  it('leases the secret sealed to the requesting instance only', async () => {
    const ingress = generateSealingKeyPair();
    const reply = await lease(connection, ingress);
    expect(reply).toMatchObject({
      connection,
      protocol: 'http',
      upstream: 'https://billing.internal/api',
      credentialKind: 'bearer',
      agentCredentialHeaders: ['authorization', 'x-api-key'],
      secretVersion: 1,
    });
    const ttl = Date.parse(reply.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    expect(openLease(reply, ingress)).toEqual({ kind: 'bearer', token: canary1 });
    expect(() => openLease(reply, generateSealingKeyPair())).toThrow(/could not be opened/);
  });

  it('refuses leases for an unknown connection and one without a credential, with a safe message', async () => {
    const keys = generateSealingKeyPair();
    await expect(lease(`nowhere-${run}`, keys, 0)).rejects.toThrow(
      `${Topics.VaultLease} answered with an error: unknown connection "nowhere-${run}"`,
    );
    await expect(lease(bare, keys)).rejects.toThrow(`answered with an error: connection "${bare}" has no credential`);
    await expect(
      leases.request(
        Topics.VaultLease,
        connection,
        { requestId: uuidv7(), connection, ingressInstance: 'e2e', publicKey: randomBytes(16).toString('base64') },
        10000,
      ),
    ).rejects.toThrow(/publicKey: recipient public key must be 32 bytes/);
  });

  it('rotates: a new version, an airlock.vault.rotated event, and the next lease carries the new secret', async () => {
    const set = await api('PUT', `/connections/${connection}/secret`, { body: { token: canary2 } });
    expect(set.body).toEqual({ connection, secretVersion: 2 });
    // Every stored version is announced, the first one too; each ingress drops its cached lease on it.
    const announced = await waitFor('the rotation event of version 2', () => {
      const events = tap.values(Topics.VaultRotated).map((v) => JSON.parse(v) as { connection: string });
      const ours = events.filter((e) => e.connection === connection);
      return ours.length >= 2 ? ours : undefined;
    });
    expect(announced).toEqual([
      { connection, secretVersion: 1, rotatedAt: expect.any(String) },
      { connection, secretVersion: 2, rotatedAt: expect.any(String) },
    ]);
    expect(
      tap.messages
        .filter((m) => m.topic === Topics.VaultRotated && m.value?.toString().includes(connection))
        .map((m) => m.key?.toString()),
    ).toEqual([connection, connection]);
    const ingress = generateSealingKeyPair();
    const reply = await lease(connection, ingress);
    expect(reply.secretVersion).toBe(2);
    expect(openLease(reply, ingress)).toEqual({ kind: 'bearer', token: canary2 });
  });

  it('audits every admin action and lease, naming the admin and never the secret', async () => {
    await tap.caughtUp();
    const mine = tap.audit().filter((e) => e.connection === connection && e.source === 'credential-vault');
    const created = mine.filter((e) => e.type === 'vault.connection_created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      actor: { issuer: idp.issuer, subject: adminSubject, groups: ['airlock-admins'] },
      protocol: 'http',
      data: { protocol: 'http', upstream: 'https://billing.internal/api', credentialKind: 'bearer' },
    });
    expect(
      mine.filter((e) => e.type === 'vault.secret_set').map((e) => (e.type === 'vault.secret_set' ? e.data : null)),
    ).toEqual([
      { secretVersion: 1, keyId: 'k1', rotation: false },
      { secretVersion: 2, keyId: 'k1', rotation: true },
    ]);
    const issued = mine.filter((e) => e.type === 'vault.lease_issued');
    expect(issued.length).toBeGreaterThanOrEqual(2);
    expect(
      issued.every((e) => e.type === 'vault.lease_issued' && e.data.ingressInstance === `e2e-ingress-${run}`),
    ).toBe(true);
  });

  it('puts no secret on Kafka, in any API response, or in its logs', async () => {
    await tap.caughtUp();
    const replies = tap.messages.filter((m) => m.topic === replyTopicOf(Topics.VaultLease));
    expect(replies.some((m) => m.value?.toString().includes(connection))).toBe(true);
    // The scanner finds both canaries, in every form, where they are put on purpose.
    for (const canary of [canary1, canary2]) {
      const planted = Buffer.concat([Buffer.from('{"x":"'), Buffer.from(canary), Buffer.from('"}')]);
      expect(findSecret(planted, canary)).toContain(canary);
      for (const form of secretForms(canary)) expect(findSecret(`..${form}..`, canary)).toContain(form);
      for (let pad = 0; pad < 3; pad++) {
        const b64 = Buffer.concat([Buffer.alloc(pad, 7), Buffer.from(canary)]).toString('base64');
        expect(findSecret(b64, canary).length).toBeGreaterThan(0);
      }
    }
    const leaks: string[] = [];
    for (const canary of [canary1, canary2]) {
      for (const m of tap.messages) {
        for (const part of [m.key, m.value, m.headers]) {
          if (part)
            for (const form of findSecret(part, canary)) leaks.push(`${m.topic}/${m.partition}@${m.offset}: ${form}`);
        }
      }
      for (const text of responses) for (const form of findSecret(text, canary)) leaks.push(`API response: ${form}`);
      for (const form of findSecret(vault.logs, canary)) leaks.push(`vault log: ${form}`);
    }
    expect(tap.messages.length).toBeGreaterThan(0);
    expect(responses.length).toBeGreaterThan(10);
    expect(vault.logs.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });

  it('refuses to start when its key-encryption key does not open the stored secrets', async () => {
    const common = vaultEnv({});
    const port = String(await freePort());
    const wrong = await runVaultCommand('main.js', {
      ...common,
      HTTP_PORT: port,
      VAULT_KEK: randomBytes(32).toString('base64'),
      VAULT_KEK_ID: 'k1',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('VAULT_KEK does not match key id k1 that protects 2 stored secrets');

    const missingKey = await runVaultCommand('main.js', {
      ...common,
      HTTP_PORT: port,
      VAULT_KEK_FILE: keyFile('kek-other.json', { current: 'k9', keys: { k9: randomBytes(32).toString('base64') } }),
    });
    expect(missingKey.code).toBe(1);
    expect(missingKey.stderr).toContain('VAULT_KEK_FILE has no key k1, which protects 2 stored secrets');

    const noKey = await runVaultCommand('main.js', { ...common, HTTP_PORT: port });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/VAULT_KEK_FILE or VAULT_KEK: required/);

    const readable = await runVaultCommand('main.js', {
      ...common,
      HTTP_PORT: port,
      VAULT_KEK_FILE: keyFile('kek-open.json', { current: 'k1', keys: { k1 } }, 0o644),
    });
    expect(readable.code).toBe(1);
    expect(readable.stderr).toMatch(/VAULT_KEK_FILE: .*kek-open.json is readable or writable by every user/);
    for (const r of [wrong, missingKey, noKey, readable]) expect(`${r.stdout}${r.stderr}`).not.toContain(k1);
    // The running vault was never disturbed.
    expect((await fetch(`${vault.url}/health`)).status).toBe(200);
  });

  it('rewraps every data key under a new KEK; the vault then starts with the new key alone and leases still work', async () => {
    const before = await db.query<{
      version: number;
      key_id: string;
      wrapped_dek: Buffer;
      ciphertext: Buffer;
      iv: Buffer;
      tag: Buffer;
    }>(
      'SELECT version, key_id, wrapped_dek, ciphertext, iv, tag FROM vault_secret WHERE connection = $1 ORDER BY version',
      [connection],
    );
    expect(before.map((r) => r.key_id)).toEqual(['k1', 'k1']);

    const rotatingEnv = vaultEnv({ VAULT_KEK_FILE: keyFile('kek-rotating.json', { current: 'k2', keys: { k1, k2 } }) });
    const rewrap = await runVaultCommand('rewrap.js', rotatingEnv);
    expect({ code: rewrap.code, stderr: rewrap.stderr }).toEqual({ code: 0, stderr: '' });
    expect(rewrap.stdout.trim()).toBe(
      'rewrap: 2 data keys rewrapped to k2 (2 from k1); no secret is under another key',
    );

    const after = await db.query<{
      version: number;
      key_id: string;
      wrapped_dek: Buffer;
      ciphertext: Buffer;
      iv: Buffer;
      tag: Buffer;
    }>(
      'SELECT version, key_id, wrapped_dek, ciphertext, iv, tag FROM vault_secret WHERE connection = $1 ORDER BY version',
      [connection],
    );
    expect(after.map((r) => r.key_id)).toEqual(['k2', 'k2']);
    for (const [i, row] of after.entries()) {
      expect(
        row.ciphertext.equals(before[i].ciphertext) && row.iv.equals(before[i].iv) && row.tag.equals(before[i].tag),
      ).toBe(true);
      expect(row.wrapped_dek.equals(before[i].wrapped_dek)).toBe(false);
    }
    expect(
      (await db.query<{ key_id: string }>('SELECT key_id FROM vault_key_check ORDER BY key_id')).map((r) => r.key_id),
    ).toEqual(['k1', 'k2']);
    const audited = await waitFor('the rewrap audit event', () =>
      tap.audit().find((e) => e.type === 'vault.key_rewrapped' && e.data.toKeyId === 'k2' && e.data.fromKeyId === 'k1'),
    );
    expect(audited.data).toEqual({ fromKeyId: 'k1', toKeyId: 'k2', records: 2 });

    const again = await runVaultCommand('rewrap.js', rotatingEnv);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe('rewrap: nothing to do, current key k2; no secret is under another key');

    // The old key can go now: a vault holding only the new key starts and leases the current secret.
    await vault.stop();
    vaultAfterRotation = new ServiceProcess(
      'credential-vault',
      await freePort(),
      vaultEnv({ VAULT_KEK_FILE: keyFile('kek-2.json', { current: 'k2', keys: { k2 } }) }),
    );
    await vaultAfterRotation.start();
    const ingress = generateSealingKeyPair();
    const reply = await lease(connection, ingress);
    expect(reply.secretVersion).toBe(2);
    expect(openLease(reply, ingress)).toEqual({ kind: 'bearer', token: canary2 });
    expect((await api('GET', `/connections/${connection}`)).body.secretVersion).toBe(2);
    // And a vault that still holds only the old key is refused, by name.
    const stale = await runVaultCommand('main.js', {
      ...vaultEnv({ VAULT_KEK_FILE: keyFile('kek-1-again.json', { current: 'k1', keys: { k1 } }) }),
      HTTP_PORT: String(await freePort()),
    });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('VAULT_KEK_FILE has no key k2, which protects 2 stored secrets');
    expect(findSecret(vaultAfterRotation.logs, canary2)).toEqual([]);
  });
});
