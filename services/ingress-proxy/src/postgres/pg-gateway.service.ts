import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContext } from 'node:tls';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  ConnectionNameSchema,
  truncateText,
  uuidv7,
  type AuditEventDraft,
  type PolicyDecision,
  type Principal,
} from '@airlock/contracts';
import { TOKEN_VERIFIER, TokenRejectedError, type TokenVerifier } from '@airlock/identity';
import { MessagingError } from '@airlock/messaging';
import { tracingEnabled } from '@airlock/observability';
import { broadcastToWorkers, isWorkerBroadcast } from '@airlock/runtime';
import {
  MessageReader,
  encodeAuthenticationCleartextPassword,
  encodeAuthenticationOk,
  encodeBackendKeyData,
  encodeErrorResponse,
  encodeMessage,
  encodeParameterStatus,
  encodeReadyForQuery,
  passwordFromMessage,
  type Frame,
} from '@airlock/pg-wire';
import { DEFAULT_SEARCH_PATH, SqlClassifier, loadSqlParser, parseSearchPath } from '@airlock/sql';
import { AuditService } from '../audit/audit.service';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { LeaseClient, type ActiveLease } from '../credentials/lease.client';
import { PolicyClient } from '../policy-client/policy-client.service';
import { ColumnCatalog } from './column-catalog';
import { RelationCatalog } from './relation-catalog';
import { PgGatewayError, SqlState } from './pg-errors';
import { PgSession, type PgSessionServices, type ToolSessionOrigin } from './pg-session';
import {
  pgAuthFailedDraft,
  sessionStartedDraft,
  statementFailedDraft,
  type Envelope,
} from '../operation/operation-audit';
import { OperationPipeline } from '../operation/pipeline';
import { traceOperation } from '../operation/operation-trace';
import {
  HandshakeDeadline,
  MAX_STARTUP_PACKET_BYTES,
  readFirstPacket,
  readPassword,
  startupSettings,
} from './pg-startup';
import { SessionCaps } from './session-caps';
import { UpstreamConnectError, cancelUpstream, connectUpstream, upstreamAddress } from './pg-upstream';

const CANCEL_BROADCAST = 'pg-cancel';

/**
 * The PostgreSQL front of the gateway: agents connect with `dbname=<connection>` and their OIDC
 * token as the password (over TLS only); the gateway signs in upstream with a leased credential
 * and relays the session through policy, masking and audit.
 */
@Injectable()
export class PgGatewayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PgGatewayService.name);
  private server: Server | null = null;
  private secureContext: SecureContext | undefined;
  private readonly sessions = new Map<string, PgSession>();
  private readonly byCancelKey = new Map<string, PgSession>();
  private handshakes = 0;
  private readonly classifier = new SqlClassifier();
  private readonly catalog: ColumnCatalog;
  private readonly relations: RelationCatalog;
  private readonly upstreamCa: Buffer | undefined;
  private readonly sessionServices: PgSessionServices;
  private readonly caps: SessionCaps;
  /** The per-principal and per-connection slot each session holds, given back when it closes. */
  private readonly slots = new Map<string, () => void>();

  constructor(
    @Inject(INGRESS_CONFIG) private readonly config: IngressConfig,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    private readonly audit: AuditService,
    private readonly policy: PolicyClient,
    private readonly leases: LeaseClient,
    private readonly pipeline: OperationPipeline,
  ) {
    this.upstreamCa = config.PG_UPSTREAM_CA_FILE ? readFileSync(config.PG_UPSTREAM_CA_FILE) : undefined;
    this.catalog = new ColumnCatalog(config.PG_UPSTREAM_CONNECT_TIMEOUT_MS, this.upstreamCa);
    this.caps = new SessionCaps({
      perPrincipal: config.PG_MAX_SESSIONS_PER_PRINCIPAL,
      perConnection: config.PG_MAX_SESSIONS_PER_CONNECTION,
    });
    this.relations = new RelationCatalog(this.catalog);
    this.sessionServices = {
      logger: this.logger,
      classify: (sql) => this.classifier.classify(sql),
      pipeline: this.pipeline,
      resolveColumns: (lease, refs) => this.catalog.resolve(lease, refs),
      cachedColumns: (lease, refs) => this.catalog.cached(lease, refs),
      relations: (lease) => ({
        cached: (names) => this.relations.cached(lease, names),
        load: (names) => this.relations.load(lease, names),
        generation: () => this.relations.generation,
        forget: () => this.relations.forget(lease),
      }),
      onClose: (s) => {
        this.slots.get(s.id)?.();
        this.slots.delete(s.id);
        this.sessions.delete(s.id);
        this.byCancelKey.delete(cancelKeyOf(s.cancelKey));
      },
      maxStatementBytes: config.PG_MAX_STATEMENT_BYTES,
    };
  }

  get port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  private readonly onWorkerMessage = (message: unknown): void => {
    if (!isWorkerBroadcast(message) || message.airlockBroadcast !== CANCEL_BROADCAST) return;
    const { processId, secretKey } = message.payload;
    if (typeof processId !== 'number' || typeof secretKey !== 'string') return;
    this.cancel(processId, Buffer.from(secretKey, 'hex'), true).catch((err: Error) =>
      this.logger.warn({ err: err.message }, 'relayed cancel failed'),
    );
  };

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.PG_PORT === undefined) return;
    process.on('message', this.onWorkerMessage);
    this.secureContext = createSecureContext({
      cert: readFileSync(this.config.PG_TLS_CERT_FILE!),
      key: readFileSync(this.config.PG_TLS_KEY_FILE!),
    });
    await loadSqlParser();
    const server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    server.on('error', (err) => this.logger.error({ err: err.message }, 'PostgreSQL listener failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.PG_PORT, this.config.PG_HOST ?? this.config.HTTP_HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log({ port: this.port }, 'PostgreSQL listener started');
  }

  async onApplicationShutdown(): Promise<void> {
    process.off('message', this.onWorkerMessage);
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of [...this.sessions.values()]) s.shutdown();
    await this.catalog.close();
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    if (this.sessions.size + this.handshakes >= this.config.PG_MAX_SESSIONS) {
      socket.end(
        encodeErrorResponse({
          severity: 'FATAL',
          code: SqlState.TooManyConnections,
          message: 'too many sessions on this gateway',
        }),
      );
      return;
    }
    this.handshakes++;
    const conn = { socket };
    // With tracing on, a session's start-up (connect decision, lease, upstream) is a trace of its own.
    const started = tracingEnabled()
      ? Promise.resolve(traceOperation('airlock.postgres connect', () => this.handshake(conn)))
      : this.handshake(conn);
    started.catch((err: unknown) => this.refuseHandshake(conn.socket, err)).finally(() => this.handshakes--);
  }

  private async handshake(conn: { socket: Socket }): Promise<void> {
    const deadline = new HandshakeDeadline(this.config.PG_STARTUP_TIMEOUT_MS);
    const preAuthLimit = this.config.PG_MAX_STARTUP_MESSAGE_BYTES;
    const raw = conn.socket;
    const first = await readFirstPacket(
      conn,
      this.secureContext,
      deadline,
      Math.min(preAuthLimit, MAX_STARTUP_PACKET_BYTES),
    );
    if (first.kind === 'cancel') {
      raw.destroy();
      await this.cancel(first.processId, first.secretKey);
      return;
    }
    const socket = first.socket;
    const client = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? 0}`;
    const handshakeEnv = (connection: string | null): Omit<AuditEventDraft, 'type' | 'data'> => ({
      sessionId: uuidv7(),
      requestId: uuidv7(),
      actor: null,
      connection,
      protocol: 'postgres',
      source: 'ingress-proxy',
    });

    const unrecognised = Object.keys(first.params).filter((k) => k.startsWith('_pq_.'));
    const params = Object.fromEntries(Object.entries(first.params).filter(([k]) => !k.startsWith('_pq_.')));
    const settings = startupSettings(params);
    const named = ConnectionNameSchema.safeParse(settings.connection);
    if (!named.success) throw unknownConnection(settings.connection);
    const connection = named.data;
    if (!first.tls) {
      await this.auditAuthFailure(handshakeEnv(connection), 'tls_required', 'TLS is required to send a token');
      throw new PgGatewayError(
        SqlState.InvalidAuthorization,
        'the gateway accepts a token as password only over TLS; connect with sslmode=require',
        'routing',
        { fatal: true },
      );
    }
    if (first.minor > 0 || unrecognised.length > 0) socket.write(negotiateProtocolVersion(unrecognised));
    socket.write(encodeAuthenticationCleartextPassword());
    // Until the token is checked, a message may be a few KiB at most: enough for a JWT.
    const reader = new MessageReader({ maxLength: preAuthLimit });
    const { frame, rest } = await readPassword(socket, reader, deadline);
    if (frame.type !== 0x70) {
      throw new PgGatewayError(SqlState.ProtocolViolation, 'expected a password message', 'routing', { fatal: true });
    }
    const token = passwordFromMessage(frame.body);

    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (err) {
      const code = err instanceof TokenRejectedError ? err.code : 'malformed';
      const reason = err instanceof TokenRejectedError ? err.message : 'The token could not be verified.';
      await this.auditAuthFailure(handshakeEnv(connection), code, reason);
      throw new PgGatewayError(SqlState.InvalidPassword, `password authentication failed: ${reason}`, 'routing', {
        fatal: true,
        cause: err,
      });
    }

    const env = { ...handshakeEnv(connection), actor: principal };
    await this.startAuthenticated({
      socket,
      reader,
      rest,
      tls: first.tls,
      client,
      settings,
      env,
      principal,
      connection,
    });
  }

  /**
   * Opens a session for a tool call on `socket`, one end of an in-process pair whose other end the
   * tool port speaks the wire protocol on. The caller is already authenticated (by the MCP
   * transport, with the same verifier); from there it is the wire path's own start-up (policy's
   * connect decision, session caps, lease, upstream, session.started) and a PgSession like any
   * other. Resolves once AuthenticationOk..ReadyForQuery are written to `socket`; a refusal is a
   * PgGatewayError, already audited.
   */
  async openForTool(
    caller: { principal: Principal; client: string; tls: boolean },
    connection: string,
    socket: Duplex,
    origin: ToolSessionOrigin,
  ): Promise<void> {
    await loadSqlParser();
    const named = ConnectionNameSchema.safeParse(connection);
    if (!named.success) throw unknownConnection(connection);
    const { principal } = caller;
    const env = {
      sessionId: origin.sessionId,
      requestId: uuidv7(),
      actor: principal,
      connection,
      protocol: 'mcp' as const,
      tool: origin.tool,
      source: 'ingress-proxy',
    };
    await this.startAuthenticated({
      socket,
      reader: new MessageReader({ maxLength: this.config.PG_MAX_MESSAGE_BYTES }),
      rest: [],
      tls: caller.tls,
      client: caller.client,
      settings: startupSettings({ database: connection }),
      env,
      principal,
      connection,
      origin,
    });
  }

  /**
   * The start-up after authentication, for every caller: policy first (a principal no rule lets
   * use the connection never costs an upstream session), then the session caps, then the upstream
   * session.
   */
  private async startAuthenticated(admitted: AdmittedStartup): Promise<void> {
    const { env, principal, connection } = admitted;
    await this.admit(env, principal, connection);
    const slot = this.caps.take(principal, connection);
    if (!slot.ok) {
      const error = new PgGatewayError(SqlState.TooManyConnections, slot.message, 'routing', { fatal: true });
      this.audit.emitAfter(statementFailedDraft(env, error));
      throw error;
    }
    try {
      await this.open(admitted, slot.release);
    } catch (err) {
      slot.release();
      throw err;
    }
  }

  /** Asks policy whether the principal may open a session on the connection at all; refuses (28000) if not. */
  private async admit(env: Envelope & { actor: Principal }, principal: Principal, connection: string): Promise<void> {
    let decision: PolicyDecision;
    try {
      ({ decision } = await this.policy.evaluate({
        requestId: env.requestId,
        sessionId: env.sessionId,
        principal,
        connection,
        protocol: 'postgres',
        operation: { kind: 'connect' },
      }));
    } catch (err) {
      const timeout = err instanceof MessagingError && err.failure === 'timeout';
      this.logger.warn({ connection, err: (err as Error).message }, 'policy did not answer a session start: refusing');
      const error = new PgGatewayError(
        SqlState.CannotConnectNow,
        timeout
          ? 'the policy service did not answer in time; session refused'
          : 'the policy service is unavailable; session refused',
        'policy',
        { fatal: true, cause: err },
      );
      this.audit.emitAfter({
        ...env,
        type: 'statement.failed',
        data: { stage: error.stage, reason: error.publicMessage, sqlstate: error.sqlstate },
      });
      throw error;
    }
    if (decision.decision === 'allow') return;
    const reason = `access to connection "${connection}" refused by policy: ${decision.reason}`;
    await this.auditAuthFailure(env, 'forbidden', reason, {
      ...(decision.ruleId ? { ruleId: decision.ruleId } : {}),
      policyVersion: decision.policyVersion,
    });
    throw new PgGatewayError(SqlState.InvalidAuthorization, reason, 'policy', { fatal: true });
  }

  /** Takes a lease, opens the upstream session and hands the client over to a PgSession. */
  private async open(admitted: AdmittedStartup, releaseSlot: () => void): Promise<void> {
    const { socket, reader, rest, tls, client, settings, env, principal, connection, origin } = admitted;
    // Authenticated: from here on the session's own message limit applies.
    reader.limit = this.config.PG_MAX_MESSAGE_BYTES;
    let lease: ActiveLease;
    try {
      lease = await this.leases.lease(connection);
      if (lease.secret.kind !== 'postgres-password') {
        throw new PgGatewayError(
          SqlState.InvalidCatalogName,
          `connection "${connection}" is not a PostgreSQL connection`,
          'routing',
          {
            fatal: true,
          },
        );
      }
    } catch (err) {
      const error = err instanceof PgGatewayError ? err : leaseFailure(connection, err);
      this.audit.emitAfter(statementFailedDraft(env, error));
      throw error;
    }

    const secret = lease.secret;
    // The session starts with a search_path the gateway knows: the client's, or the default
    // (never one a role or database setting would pick behind the gateway's back).
    const searchPath = settings.passed.search_path
      ? parseSearchPath(settings.passed.search_path, secret.username)
      : DEFAULT_SEARCH_PATH;
    if (!searchPath) {
      throw new PgGatewayError(SqlState.InvalidParameterValue, 'search_path is not a list of schema names', 'routing', {
        fatal: true,
      });
    }
    let upstream;
    try {
      const addr = upstreamAddress(lease.upstream);
      upstream = await connectUpstream(
        {
          ...addr,
          user: secret.username,
          password: secret.password,
          params: { ...settings.passed, search_path: settings.passed.search_path ?? DEFAULT_SEARCH_PATH.join(', ') },
        },
        { timeoutMs: this.config.PG_UPSTREAM_CONNECT_TIMEOUT_MS, ca: this.upstreamCa },
      );
    } catch (err) {
      const kind = err instanceof UpstreamConnectError ? err.kind : 'protocol';
      this.logger.warn({ connection, kind, err: (err as Error).message }, 'cannot open the upstream session');
      const error = new PgGatewayError(
        SqlState.ServiceUnavailable,
        `the gateway could not open a session on the upstream of connection "${connection}"`,
        'upstream',
        { fatal: true, cause: err },
      );
      this.audit.emitAfter(statementFailedDraft(env, error));
      throw error;
    }

    const cancelKey = { processId: randomInt(1, 2 ** 31 - 1), secretKey: randomBytes(4) };
    const session = new PgSession(
      socket,
      reader,
      upstream,
      principal,
      connection,
      lease,
      this.sessionServices,
      cancelKey,
      searchPath,
      origin,
    );
    try {
      await this.audit.emit(
        sessionStartedDraft(
          { ...env, sessionId: origin ? origin.sessionId : session.id },
          { client, tls, applicationName: settings.passed.application_name, leaseId: lease.leaseId },
        ),
      );
    } catch (err) {
      upstream.socket.destroy();
      throw new PgGatewayError(SqlState.CannotConnectNow, 'the audit trail is unavailable; session refused', 'audit', {
        fatal: true,
        cause: err,
      });
    }
    this.sessions.set(session.id, session);
    this.slots.set(session.id, releaseSlot);
    this.byCancelKey.set(cancelKeyOf(cancelKey), session);
    const hello: Buffer[] = [encodeAuthenticationOk()];
    for (const p of upstream.parameters) {
      const value = p.name === 'session_authorization' ? truncateText(principal.subject, 63) : p.value;
      if (secret.password.length >= 4 && value.includes(secret.password)) continue;
      hello.push(encodeParameterStatus(p.name, value));
    }
    hello.push(encodeBackendKeyData(cancelKey.processId, cancelKey.secretKey), encodeReadyForQuery('I'));
    socket.write(Buffer.concat(hello));
    this.logger.log({ sessionId: session.id, connection, subject: principal.subject }, 'PostgreSQL session started');
    session.start(rest);
  }

  private async cancel(processId: number, secretKey: Buffer, relayed = false): Promise<void> {
    const session = this.byCancelKey.get(cancelKeyOf({ processId, secretKey }));
    if (!session) {
      // With several workers the session may live in another one: ask them all, once.
      if (!relayed) broadcastToWorkers(CANCEL_BROADCAST, { processId, secretKey: secretKey.toString('hex') });
      // An unknown key gets no answer at all, as PostgreSQL does: nothing to learn by guessing.
      return;
    }
    // A statement held for approval is not on the server yet: the cancel is for the hold.
    if (session.cancelHeld()) {
      this.logger.log({ sessionId: session.id }, 'held statement cancelled by the client');
      return;
    }
    const lease = await this.leases.lease(session.connection);
    await cancelUpstream(upstreamAddress(lease.upstream), session.upstreamKey, {
      timeoutMs: this.config.PG_UPSTREAM_CONNECT_TIMEOUT_MS,
      ca: this.upstreamCa,
    });
    this.logger.log({ sessionId: session.id }, 'query cancel passed upstream');
  }

  private refuseHandshake(socket: Socket, err: unknown): void {
    const error =
      err instanceof PgGatewayError
        ? err
        : new PgGatewayError(SqlState.ProtocolViolation, 'invalid start-up: the connection is closed', 'routing', {
            cause: err,
          });
    if (!(err instanceof PgGatewayError)) {
      this.logger.warn({ err: (err as Error)?.message }, 'PostgreSQL start-up failed');
    }
    if (socket.destroyed) return;
    socket.end(
      encodeErrorResponse({ severity: 'FATAL', code: error.sqlstate, message: error.publicMessage, hint: error.hint }),
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private async auditAuthFailure(
    env: Omit<AuditEventDraft, 'type' | 'data'>,
    code: string,
    reason: string,
    more: { ruleId?: string; policyVersion?: string } = {},
  ): Promise<void> {
    try {
      await this.audit.emit(pgAuthFailedDraft(env, code, reason, more));
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        'audit event of an authentication failure could not be published',
      );
    }
  }
}

/** A start-up that is authenticated and admitted by policy, about to be connected upstream. */
/** A connection name no connection has (or that no connection could have). */
function unknownConnection(name: string): PgGatewayError {
  return new PgGatewayError(SqlState.InvalidCatalogName, `no connection named "${truncateText(name, 63)}"`, 'routing', {
    fatal: true,
  });
}

interface AdmittedStartup {
  socket: Duplex;
  /** The client's message reader, with what it read after the password in `rest`. */
  reader: MessageReader;
  rest: Frame[];
  tls: boolean;
  /** Address and port of the client, for the audit trail. */
  client: string;
  settings: ReturnType<typeof startupSettings>;
  env: Envelope & { actor: Principal };
  principal: Principal;
  connection: string;
  /** Set for a tool call's session (see openForTool). */
  origin?: ToolSessionOrigin;
}

/** The key a CancelRequest names a session by. */
function cancelKeyOf(k: { processId: number; secretKey: Buffer }): string {
  return `${k.processId}:${k.secretKey.toString('hex')}`;
}

function leaseFailure(connection: string, err: unknown): PgGatewayError {
  if (err instanceof MessagingError && err.failure === 'remote' && /unknown connection/.test(err.message)) {
    return unknownConnection(connection);
  }
  const message =
    err instanceof MessagingError && err.failure === 'timeout'
      ? 'the credential vault did not answer in time; session refused'
      : `no credential is available for connection "${connection}"; session refused`;
  return new PgGatewayError(SqlState.CannotConnectNow, message, 'vault', { fatal: true, cause: err });
}

/** NegotiateProtocolVersion: the gateway speaks 3.0 and none of the `_pq_` options. */
function negotiateProtocolVersion(unrecognised: string[]): Buffer {
  const names = unrecognised.map((n) => Buffer.from(`${n}\0`, 'utf8'));
  const head = Buffer.alloc(8);
  head.writeInt32BE(0, 0);
  head.writeInt32BE(names.length, 4);
  return encodeMessage(0x76, Buffer.concat([head, ...names]));
}
